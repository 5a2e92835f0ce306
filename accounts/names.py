"""How a person named in a file (a pipeline's owner, a roster's rep or manager) becomes a user.

The lead import (leads.imports.runner, creating missing owners) and the roster
import (accounts.roster) derive the same username from the same name, so the reps
a roster creates are the owners an imported pipeline finds, whichever runs first.
"""

from __future__ import annotations

from django.utils.text import slugify

USERNAME_MAX = 140  # below the field's 150, leaving room for a "2", "3"... suffix


def name_clean(raw: str) -> str:
    """Inner runs of spaces collapsed: "Anna  Snelling " -> "Anna Snelling"."""
    return " ".join(raw.split())


def name_parts(name: str) -> tuple[str, str]:
    """(first name, last name): the last word is the last name ("Mary Ann Smith" -> "Mary Ann", "Smith")."""
    first, _, last = name_clean(name).rpartition(" ")
    return (first, last) if first else (last, "")


def username_base(name_or_email: str) -> str:
    """A username for a name, not yet unique: "Dustin Brinkmann" -> "dustin.brinkmann"; an email: its local part."""
    name = name_clean(name_or_email)
    if "@" in name:
        base = name.split("@", 1)[0].lower()
    else:
        base = slugify(name).replace("-", ".")
    return (base or "rep")[:USERNAME_MAX]


def username_unique(base: str, taken: set[str]) -> str:
    """`base`, or `base2`, `base3`... whichever is not in `taken` (lower-cased usernames)."""
    username, n = base, 1
    while username.lower() in taken:
        n += 1
        username = f"{base}{n}"
    return username
