"""Where the input comes from.

The main job finds its data in this order (first match wins):

1. ``--input PATH`` (``input_path``): a file, or a folder holding one of the
   :data:`DATA_FILE_NAMES`;
2. ``$CUSTSEG_DATA``: a file, or a folder holding one of the
   :data:`DATA_FILE_NAMES`; a relative value is relative to the current
   directory (CI sets ``CUSTSEG_DATA=../shared/data``);
3. the user cache folder (:func:`default_cache_dir`) holding one of the
   :data:`DATA_FILE_NAMES`;
4. else the UCI archive is downloaded from :data:`UCI_URL`, checked, and its
   ``Online Retail.xlsx`` is extracted into the cache folder.

Inside a folder, ``online_retail.parquet`` is preferred to ``Online Retail.xlsx``.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from python_calamine import CalamineWorkbook

from custseg.errors import DownloadError, InputFileError
from custseg.schema import ONLINE_RETAIL

__all__ = [
    "DATA_FILE_NAMES",
    "DATA_ENV_VAR",
    "CACHE_ENV_VAR",
    "EXPECTED_HEADER",
    "PARQUET_NAME",
    "UCI_URL",
    "XLSX_NAME",
    "ResolvedInput",
    "default_cache_dir",
    "download_dataset",
    "find_data_file",
    "resolve_input",
]

logger = logging.getLogger(__name__)

#: The UCI Machine Learning Repository archive of "Online Retail" (id 352, CC BY 4.0).
UCI_URL = "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
#: Environment variable naming the data file or folder.
DATA_ENV_VAR = "CUSTSEG_DATA"
#: Environment variable overriding the cache folder.
CACHE_ENV_VAR = "CUSTSEG_CACHE_DIR"
PARQUET_NAME = "online_retail.parquet"
XLSX_NAME = "Online Retail.xlsx"
#: File names looked for inside a folder, in order of preference.
DATA_FILE_NAMES = (PARQUET_NAME, XLSX_NAME)
#: Header of the first sheet of the UCI workbook, checked after a download.
EXPECTED_HEADER = (
    ONLINE_RETAIL.mapping.invoice,
    ONLINE_RETAIL.mapping.stock_code,
    ONLINE_RETAIL.mapping.description,
    ONLINE_RETAIL.mapping.quantity,
    ONLINE_RETAIL.mapping.date,
    ONLINE_RETAIL.mapping.price,
    ONLINE_RETAIL.mapping.customer,
    ONLINE_RETAIL.mapping.country,
)

_CHUNK = 1 << 20

Source = Literal["option", "env", "cache", "download"]


@dataclass(frozen=True)
class ResolvedInput:
    """The input file found by :func:`resolve_input` and where it came from.

    Attributes
    ----------
    path : Path
        The data file.
    source : {"option", "env", "cache", "download"}
        ``--input``, ``$CUSTSEG_DATA``, the user cache folder, or a fresh download.
    """

    path: Path
    source: Source


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The user cache folder of custseg.

    Parameters
    ----------
    env : Mapping[str, str], default os.environ
        The environment to read.

    Returns
    -------
    Path
        ``$CUSTSEG_CACHE_DIR`` if set (a relative value is taken relative to the
        current directory), else ``$XDG_CACHE_HOME/custseg`` if ``XDG_CACHE_HOME``
        is set to an absolute path (the XDG spec says to ignore relative values),
        else ``~/.cache/custseg`` (``~`` is ``$HOME`` of ``env``, or the user's
        home folder). The folder is not created.
    """
    custom = env.get(CACHE_ENV_VAR, "")
    if custom:
        return Path(os.path.abspath(Path(custom).expanduser()))
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "custseg"
    home = env.get("HOME", "")
    return (Path(home) if home else Path.home()) / ".cache" / "custseg"


def find_data_file(folder: Path) -> Path | None:
    """The first of :data:`DATA_FILE_NAMES` present in ``folder``, or None."""
    for name in DATA_FILE_NAMES:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None


def resolve_input(
    input_path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
    url: str = UCI_URL,
    allow_download: bool = True,
    timeout: float = 30,
    progress: Callable[[int, int | None], None] | None = None,
) -> ResolvedInput:
    """Find the input data: ``--input``, then ``$CUSTSEG_DATA``, the cache, a download.

    Parameters
    ----------
    input_path : Path, optional
        The ``--input`` option: a file, or a folder holding ``online_retail.parquet``
        or ``Online Retail.xlsx``.
    env : Mapping[str, str], optional
        The environment (default: ``os.environ``); read for ``CUSTSEG_DATA`` and
        the cache folder.
    cache_dir : Path, optional
        The cache folder (default: :func:`default_cache_dir` of ``env``).
    url : str, default UCI_URL
        Where to download the archive from.
    allow_download : bool, default True
        If False and nothing is found, raise :class:`InputFileError` instead of
        downloading.
    timeout : float, default 30
        Network timeout in seconds (connection and each read).
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.

    Returns
    -------
    ResolvedInput
        The file and its source.

    Raises
    ------
    InputFileError
        A given path that does not exist, a folder without either data file, or
        nothing found with ``allow_download=False``.
    DownloadError
        The download or its check failed.
    """
    env = os.environ if env is None else env
    if input_path is not None:
        return ResolvedInput(_from_option(Path(input_path)), "option")

    data = env.get(DATA_ENV_VAR, "")
    if data:
        return ResolvedInput(_from_env(Path(data)), "env")

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir(env)
    cached = find_data_file(cache)
    if cached is not None:
        return ResolvedInput(cached, "cache")

    if not allow_download:
        raise InputFileError(
            "no input data: no --input, CUSTSEG_DATA not set, and nothing in the cache folder "
            f"{cache}",
            fix=f"pass --input PATH, set {DATA_ENV_VAR} to a file or folder, or put "
            f"{' or '.join(DATA_FILE_NAMES)} in {cache} (download: {url})",
        )
    logger.info("no local data found; downloading %s into %s", url, cache)
    return ResolvedInput(
        download_dataset(url, cache, timeout=timeout, progress=progress), "download"
    )


def _from_option(path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        return _file_in_folder(path, "--input")
    raise InputFileError("--input: no such file or folder", path=path, fix="check the path")


def _from_env(path: Path) -> Path:
    path = Path(os.path.abspath(path.expanduser()))  # relative to the current directory
    if path.is_file():
        return path
    if path.is_dir():
        return _file_in_folder(path, DATA_ENV_VAR)
    raise InputFileError(
        f"{DATA_ENV_VAR} names a file or folder that does not exist",
        path=path,
        fix=f"set {DATA_ENV_VAR} to an existing file or folder (a relative value is relative "
        "to the current directory)",
    )


def _file_in_folder(folder: Path, origin: str) -> Path:
    found = find_data_file(folder)
    if found is None:
        raise InputFileError(
            f"{origin}: the folder holds neither {' nor '.join(DATA_FILE_NAMES)}",
            path=folder,
            fix="put one of them there, or give the data file's own path",
        )
    return found


# --------------------------------------------------------------------------- download


def download_dataset(
    url: str,
    cache_dir: Path,
    *,
    timeout: float = 30,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download the UCI archive, check it and extract ``Online Retail.xlsx`` into the cache.

    The archive is streamed to a temporary file in ``cache_dir``; the workbook is
    extracted to another temporary file, checked, and only then renamed to
    ``cache_dir / "Online Retail.xlsx"``. A failed or interrupted download leaves
    nothing behind (the archive itself is not kept).

    The check: the archive is a valid zip (CRCs included) holding
    ``Online Retail.xlsx``, and that workbook opens with python-calamine and its
    first sheet's header is :data:`EXPECTED_HEADER`.

    Parameters
    ----------
    url : str
        The archive's address (``http``, ``https`` or ``file``).
    cache_dir : Path
        Where the workbook goes; created if needed.
    timeout : float, default 30
        Network timeout in seconds (connection and each read).
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total_or_None)`` after each chunk.

    Returns
    -------
    Path
        ``cache_dir / "Online Retail.xlsx"``.

    Raises
    ------
    DownloadError
        No network, HTTP error, timeout, truncated transfer, bad archive, missing or
        unexpected workbook, or a cache folder that cannot be written. The one-line
        message says what failed and where to put the file by hand.
    """
    cache_dir = Path(cache_dir).expanduser().absolute()
    target = cache_dir / XLSX_NAME

    def fail(problem: str, cause: BaseException | None = None) -> DownloadError:
        error = DownloadError(
            problem,
            fix=f"Download {url} by hand, unzip it and put {XLSX_NAME!r} in {cache_dir} "
            f"(or set {DATA_ENV_VAR} to the file or its folder, or pass --input PATH)",
        )
        error.__cause__ = cause
        return error

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create the cache folder {cache_dir} ({_reason(exc)})", exc) from exc

    temporaries: list[Path] = []
    try:
        archive = _temporary(cache_dir, ".zip.part", temporaries)
        _fetch(url, archive, timeout=timeout, progress=progress, fail=fail)
        workbook = _temporary(cache_dir, ".xlsx.part", temporaries)
        _extract_workbook(archive, workbook, url=url, fail=fail)
        _check_workbook(workbook, url=url, fail=fail)
        os.replace(workbook, target)
        temporaries.remove(workbook)
    except OSError as exc:  # disk full, permissions: anything not already mapped
        raise fail(f"cannot write the download into {cache_dir} ({_reason(exc)})", exc) from exc
    finally:
        for leftover in temporaries:
            with contextlib.suppress(OSError):
                leftover.unlink()
    logger.info("downloaded and checked %s -> %s", url, target)
    return target


def _temporary(folder: Path, suffix: str, registry: list[Path]) -> Path:
    fd, name = tempfile.mkstemp(prefix=".custseg-download-", suffix=suffix, dir=folder)
    os.close(fd)
    registry.append(Path(name))
    return Path(name)


def _fetch(
    url: str,
    destination: Path,
    *,
    timeout: float,
    progress: Callable[[int, int | None], None] | None,
    fail: Callable[..., DownloadError],
) -> None:
    """Stream ``url`` into ``destination``; every network failure -> DownloadError."""
    request = urllib.request.Request(url, headers={"User-Agent": "custseg"})
    done = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with open(destination, "wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    except urllib.error.HTTPError as exc:
        raise fail(f"download of {url} failed: HTTP {exc.code} {exc.reason}", exc) from exc
    except urllib.error.URLError as exc:
        raise fail(f"download of {url} failed: {_reason(exc.reason)}", exc) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # timeouts, resets, truncated chunks, a malformed URL, a full disk
        raise fail(f"download of {url} failed: {_reason(exc)}", exc) from exc
    if total is not None and done != total:
        raise fail(f"download of {url} was cut short: {done} of {total} bytes received")


def _extract_workbook(
    archive: Path, destination: Path, *, url: str, fail: Callable[..., DownloadError]
) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [
                info
                for info in zf.infolist()
                if not info.is_dir() and PurePosixPath(info.filename).name == XLSX_NAME
            ]
            if not members:
                names = ", ".join(info.filename for info in zf.infolist()[:5]) or "nothing"
                raise fail(f"the archive from {url} does not hold {XLSX_NAME!r} (it holds {names})")
            with zf.open(members[0]) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)  # zipfile checks the CRC at the end
    except zipfile.BadZipFile as exc:
        raise fail(f"the file from {url} is not a valid zip archive ({_reason(exc)})", exc) from exc
    except (EOFError, zlib.error, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise fail(f"the archive from {url} cannot be read ({_reason(exc)})", exc) from exc


def _check_workbook(workbook: Path, *, url: str, fail: Callable[..., DownloadError]) -> None:
    try:
        book = CalamineWorkbook.from_path(str(workbook))
        try:
            rows = book.get_sheet_by_index(0).to_python(nrows=1)
        finally:
            book.close()
    except Exception as exc:  # calamine raises its own errors, OSError, ValueError
        raise fail(
            f"{XLSX_NAME!r} from {url} is not a readable workbook ({_reason(exc)})", exc
        ) from exc
    header = tuple(str(v).strip() for v in rows[0][: len(EXPECTED_HEADER)]) if rows else ()
    if header != EXPECTED_HEADER:
        raise fail(
            f"{XLSX_NAME!r} from {url} does not have the expected header "
            f"{', '.join(EXPECTED_HEADER)} (found: {', '.join(header) or 'nothing'})"
        )


def _reason(exc: object) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
