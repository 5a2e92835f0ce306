"""The one duration formatter: the largest sensible unit, never "3583h"."""

import datetime
import zoneinfo

import pytest

from leadhandoff.durations import duration_words, moment_words

H, D = 3600, 86400


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "under a minute"),
        (59, "under a minute"),
        (60, "1 min"),
        (59 * 60 + 59, "59 min"),
        (H, "1 h"),
        (3 * H + 10 * 60, "3 h 10 min"),
        (23 * H + 59 * 60, "23 h 59 min"),
        (D, "1 day"),
        (D + 4 * H, "1 day 4 h"),
        (2 * D, "2 days"),
        (6 * D + 23 * H, "6 days"),
        (13 * D, "13 days"),
        (14 * D, "2 weeks"),
        (60 * D, "8 weeks"),
        (3583 * H, "4 months"),
        (800 * D, "2 years"),
        (-6 * D, "6 days"),
    ],
)
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words
    assert duration_words(datetime.timedelta(seconds=seconds)) == words


def test_no_duration_is_empty():
    assert duration_words(None) == ""


def test_moments_read_relative_to_today_in_the_readers_time_zone():
    tz = zoneinfo.ZoneInfo("America/New_York")
    now = datetime.datetime(2026, 11, 27, 14, 0, tzinfo=datetime.UTC)  # Friday 09:00 in New York
    at = lambda **kw: now + datetime.timedelta(**kw)  # noqa: E731
    assert moment_words(at(hours=1), now=now, tz=tz) == "today 10:00"
    assert moment_words(at(days=1), now=now, tz=tz) == "tomorrow 09:00"
    assert moment_words(at(days=-1), now=now, tz=tz) == "yesterday 09:00"
    assert moment_words(at(days=3), now=now, tz=tz) == "Monday 09:00"
    assert moment_words(at(days=20), now=now, tz=tz) == "17 Dec 09:00"
    assert moment_words(at(days=60), now=now, tz=tz) == "26 Jan 2027 09:00"
    # 14:00 UTC is already Saturday in Tokyo.
    assert moment_words(now, now=now, tz=zoneinfo.ZoneInfo("Asia/Tokyo")) == "today 23:00"
