"""Small, shared pieces of writing outputs: atomic files, reproducible zip entries, build dates.

Every output and every piece of build state goes through `write_atomic`, so a reader (or a
crashed build) only ever sees the old file or the new one. Zip entries get the build's epoch
rather than the clock, so the same source gives the same bytes on any machine.
"""

from __future__ import annotations

import os
import tempfile
import time
import zipfile
from pathlib import Path

ZIP_EPOCH_MIN = 315532800  # 1980-01-01T00:00:00Z: the zip format cannot store anything older
_UMASK = os.umask(0o022)  # read the process umask (the call sets it), then put it back
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside `path` and rename over it: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; outputs get the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """`write_atomic` unless the file already holds exactly `data`; returns whether it wrote."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


def iso_date(epoch: int) -> str:
    """2026-11-23: the date printed in outputs."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def iso_timestamp(epoch: int) -> str:
    """2026-11-23T10:00:00Z: metadata timestamps (PDF, EPUB)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    """A zip entry's date for `epoch` (zip stores even seconds, and nothing before 1980)."""
    t = time.gmtime(max(epoch, ZIP_EPOCH_MIN))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)


def zip_add(zf: zipfile.ZipFile, name: str, data: bytes, epoch: int, *, stored: bool = False, level: int | None = None) -> None:
    """Add one reproducible entry: fixed date, fixed permissions, deflated (at `level`) unless `stored`."""
    info = zipfile.ZipInfo(name, date_time=zip_time(epoch))
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data, compresslevel=None if stored else level)
