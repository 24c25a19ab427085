"""The day a build is judged as of — by the freshness lint (a chapter's `reviewed:` month ages
into a warning) and by the up-to-date check (a new month validates again, although no file
changed): `SOURCE_DATE_EPOCH` when it is set (reproducible builds), else the wall clock, in UTC.

Only judging uses it. Nothing printed in an output comes from the clock (see
`deckbook.pipeline.build_info`), and the ledger stamps new content with `deckbook.ledger.now`.
This module imports nothing heavy: the command line asks it before loading the bank.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable

clock: Callable[[], float] = time.time  # the wall clock, used when SOURCE_DATE_EPOCH is unset; tests pin it


def build_date() -> dt.date:
    """The day this build is judged as of (UTC); `date.max` for an epoch past year 9999."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else clock()
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).date()
    except (OverflowError, OSError, ValueError):
        return dt.date.max


def build_month() -> str:
    """`build_date`'s month, as YYYY-MM."""
    day = build_date()
    return f"{day.year:04d}-{day.month:02d}"
