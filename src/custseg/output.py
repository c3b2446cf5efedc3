"""Writers: the only stage, with the loader, that touches files.

Everything is written into a temporary folder beside the destination and moved
into place only once complete (``os.replace``, atomic on one file system): a
run that fails or is interrupted leaves no partial file, and the previous
run's outputs stay as they were.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.errors import OutputError

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


def check_writable(out: Path) -> None:
    """Fail early, with a one-line error, when ``out`` cannot be created or written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", path=out, fix="choose another --out folder")
    parent = out if out.exists() else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            "cannot be written (permission denied)",
            path=out,
            fix="choose a folder you can write to with --out",
        )


@contextlib.contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Stage outputs in a temporary folder, then move them into ``out``.

    Yields the staging folder; on normal exit every file and folder in it
    replaces its namesake in ``out``; on any exception (Ctrl-C included) the
    staging folder is removed and ``out`` is untouched.
    """
    out = Path(out)
    check_writable(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".custseg-staging-", dir=out))
    except OSError as exc:
        raise OutputError(
            f"cannot be created ({exc.strerror})", path=out, fix="choose another --out folder"
        ) from exc
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            target = out / item.name
            if item.is_dir():
                old = None
                if target.exists():
                    old = out / f".custseg-old-{item.name}-{os.getpid()}"
                    os.replace(target, old)
                os.replace(item, target)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(item, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
