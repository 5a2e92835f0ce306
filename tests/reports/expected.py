"""Expected figures computed independently of the report code: plain Python over rows
(the example's CSV, or lead rows read with the ORM), never the report's SQL."""

from __future__ import annotations

import math
from decimal import Decimal


def percentile_linear(values, q):
    """percentile_cont: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def kaplan_meier_median(events, censored):
    """Smallest t where the product-limit estimate falls to 0.5 or below (None if never)."""
    times = sorted(set(events))
    s = 1.0
    for t in times:
        at_risk = sum(1 for e in events if e >= t) + sum(1 for c in censored if c >= t)
        died = sum(1 for e in events if e == t)
        s *= 1 - died / at_risk
        if s <= 0.5 + 1e-12:
            return float(t)
    return None


def wilson(k, n, z=1.959963984540054):
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def summary(rows):
    """rows: dicts with status, cycle (days or None), value (Decimal or None), touches (int or None)."""
    won = [r for r in rows if r["status"] == "won"]
    lost = [r for r in rows if r["status"] == "lost"]
    cycles = [r["cycle"] for r in won if r["cycle"] is not None and r["cycle"] >= 0]
    touches = [r["touches"] for r in won if r["touches"] is not None]
    return {
        "leads": len(rows),
        "won": len(won),
        "lost": len(lost),
        "win_rate": round(len(won) / (len(won) + len(lost)), 6) if won or lost else None,
        "median_cycle_days_won": percentile_linear(cycles, 0.5),
        "p75_cycle_days_won": percentile_linear(cycles, 0.75),
        "won_value": sum((r["value"] for r in won if r["value"] is not None), Decimal(0)),
        "median_touches_won": percentile_linear(touches, 0.5),
    }
