"""Writers: the only stage, with the loader, that touches files.

Everything is written into a temporary folder beside the destination and moved
into place only once complete (``os.replace``, atomic on one file system): a
run that fails or is interrupted leaves no partial file, and the previous
run's outputs stay as they were.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.errors import OutputError

log = logging.getLogger(__name__)

CSV_FLOAT_FORMAT = "%.6g"


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean(obj):
    """Replace NaN/inf by None so the JSON is valid everywhere."""
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.floating):
        return None if not np.isfinite(obj) else float(obj)
    return obj


def dumps_json(data: dict) -> str:
    """Serialise a summary to JSON text (sorted keys kept as given, NaN -> null)."""
    return json.dumps(_clean(data), default=_json_default, indent=2, ensure_ascii=False) + "\n"


def write_customers_csv(customers: pd.DataFrame, path: Path) -> Path:
    """Write the per-customer table (index ``customer_id`` becomes the first column)."""
    customers.to_csv(path, index=True, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")
    return path


def write_text(text: str, path: Path) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


STAGING_PREFIX = ".custseg-staging-"
OLD_PREFIX = ".custseg-old-"
_LEFTOVER = re.compile(r"^\.custseg-(?:staging|old)-(\d+)-")


def check_writable(out: Path) -> None:
    """Fail early, with a one-line error, when ``out`` cannot be created or written.

    The nearest existing folder on the way to ``out`` must be a folder in which
    a file can be created: the check really creates (and removes) one, so that
    read-only file systems and full disks are caught as well as permissions.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", path=out, fix="choose another --out folder")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(
            f"cannot be created: {parent} is a file, not a folder",
            path=out,
            fix="choose another --out folder",
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".custseg-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"cannot be written ({exc.strerror or exc})",
            path=out,
            fix="choose a folder you can write to with --out",
        ) from exc


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there: assume it is alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, under another user
        return True
    return True


def remove_leftovers(out: Path) -> list[Path]:
    """Remove staging folders left in ``out`` by runs that were killed (their process is gone).

    Returns the folders removed. A run that is still going keeps its own.
    """
    removed = []
    for item in Path(out).iterdir():
        m = _LEFTOVER.match(item.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(item, ignore_errors=True)
            removed.append(item)
    return removed


@contextlib.contextmanager
def _signals_deferred() -> Iterator[list[int]]:
    """Hold Ctrl-C and SIGTERM while the block runs (main thread only); yields those received."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    sigs = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {
        sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in sigs
    }
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Stage outputs in a temporary folder, then move them into ``out``.

    Yields the staging folder; on normal exit every file and folder in it
    replaces its namesake in ``out``; on any exception (Ctrl-C included) the
    staging folder is removed and ``out`` is untouched. The moves take
    milliseconds and are not cut short by Ctrl-C (it is held until they are
    done: the run is then complete). Staging folders of runs that were killed
    outright (SIGKILL, power cut) are removed by the next run into ``out``.
    """
    out = Path(out)
    check_writable(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for item in remove_leftovers(out):
            log.info("removed %s, left by a run that was killed", item)
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    except OSError as exc:
        raise OutputError(
            f"cannot be created ({exc.strerror})", path=out, fix="choose another --out folder"
        ) from exc
    try:
        yield stage
        with _signals_deferred() as received:
            for item in sorted(stage.iterdir()):
                target = out / item.name
                if item.is_dir():
                    old = None
                    if target.exists():
                        old = out / f"{OLD_PREFIX}{os.getpid()}-{item.name}"
                        os.replace(target, old)
                    os.replace(item, target)
                    if old is not None:
                        shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(item, target)
        if received:
            log.warning("interrupt received while the outputs were moved into place: run completed")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
