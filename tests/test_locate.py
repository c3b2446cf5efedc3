"""Tests of custseg.locate: resolution order, download over a local server, checks."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from custseg.errors import DownloadError, InputFileError
from custseg.excel import xlsx_to_parquet
from custseg.locate import (
    EXPECTED_HEADER,
    UCI_URL,
    ResolvedInput,
    default_cache_dir,
    download_dataset,
    resolve_input,
)

ROWS = [
    [536365, "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850, "United Kingdom"],
    [536365, 71053, "WHITE METAL LANTERN", 6, dt.datetime(2010, 12, 1, 8, 26), 3.39, 17850, "United Kingdom"],
    ["C536379", "D", "Discount", -1, dt.datetime(2010, 12, 1, 9, 41), 27.5, 14527, "United Kingdom"],
]  # fmt: skip


def workbook_bytes(header: tuple[str, ...] | list[str] = EXPECTED_HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Online Retail"
    sheet.append(list(header))
    for row in ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Route:
    body: bytes
    status: int = 200
    declared_length: int | None = None  # a Content-Length larger than the body: cut short
    hold: threading.Event | None = None  # wait for this before answering (timeouts)


@dataclass
class LocalServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.base + path


@pytest.fixture
def server() -> Iterator[LocalServer]:
    state = LocalServer(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            state.hits.append(self.path)
            route = state.routes.get(self.path, Route(b"not found", status=404))
            if route.hold is not None:
                route.hold.wait(10)
            self.send_response(route.status)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(route.declared_length or len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        for route in state.routes.values():
            if route.hold is not None:
                route.hold.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/online+retail.zip"


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- cache folder


def test_default_cache_dir_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    env = {"CUSTSEG_CACHE_DIR": "/data/cs", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/ana"}
    assert default_cache_dir(env) == Path("/data/cs")
    assert default_cache_dir({**env, "CUSTSEG_CACHE_DIR": "rel"}) == tmp_path / "rel"
    assert default_cache_dir({**env, "CUSTSEG_CACHE_DIR": ""}) == Path("/xdg/custseg")
    assert default_cache_dir({"XDG_CACHE_HOME": "/xdg", "HOME": "/h"}) == Path("/xdg/custseg")
    # the XDG spec: a relative XDG_CACHE_HOME is ignored
    assert default_cache_dir({"XDG_CACHE_HOME": "xdg", "HOME": "/h"}) == Path("/h/.cache/custseg")
    assert default_cache_dir({"HOME": "/home/ana"}) == Path("/home/ana/.cache/custseg")
    assert default_cache_dir({}) == Path.home() / ".cache" / "custseg"


# --------------------------------------------------------------------------- resolution order


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    """An --input file, a CUSTSEG_DATA file, a data folder and a cache folder, all filled."""
    option = tmp_path / "mine.csv"
    option.write_text("x")
    env_file = tmp_path / "env.parquet"
    env_file.write_bytes(b"p")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "online_retail.parquet").write_bytes(b"p")
    (folder / "Online Retail.xlsx").write_bytes(b"x")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "Online Retail.xlsx").write_bytes(b"x")
    return {"option": option, "env_file": env_file, "folder": folder, "cache": cache}


def test_option_beats_everything(places: dict[str, Path]):
    found = resolve_input(
        places["option"], env={"CUSTSEG_DATA": str(places["env_file"])}, cache_dir=places["cache"]
    )
    assert found == ResolvedInput(places["option"], "option")


def test_env_file_beats_cache(places: dict[str, Path]):
    found = resolve_input(env={"CUSTSEG_DATA": str(places["env_file"])}, cache_dir=places["cache"])
    assert found == ResolvedInput(places["env_file"], "env")


def test_env_folder_prefers_parquet_then_xlsx(places: dict[str, Path]):
    env = {"CUSTSEG_DATA": str(places["folder"])}
    found = resolve_input(env=env, cache_dir=places["cache"])
    assert found == ResolvedInput(places["folder"] / "online_retail.parquet", "env")
    (places["folder"] / "online_retail.parquet").unlink()
    found = resolve_input(env=env, cache_dir=places["cache"])
    assert found == ResolvedInput(places["folder"] / "Online Retail.xlsx", "env")


def test_relative_env_is_relative_to_current_directory(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
):
    work = places["folder"].parent / "main"
    work.mkdir()
    monkeypatch.chdir(work)
    found = resolve_input(env={"CUSTSEG_DATA": "../data"}, cache_dir=places["cache"])
    assert found.source == "env"
    assert found.path == places["folder"] / "online_retail.parquet"  # no "main/.." left


def test_cache_when_nothing_else(places: dict[str, Path], server: LocalServer):
    url = server.serve("/online+retail.zip", Route(b"unused"))
    found = resolve_input(env={"CUSTSEG_DATA": ""}, cache_dir=places["cache"], url=url)
    assert found == ResolvedInput(places["cache"] / "Online Retail.xlsx", "cache")
    (places["cache"] / "online_retail.parquet").write_bytes(b"p")
    found = resolve_input(env={}, cache_dir=places["cache"], url=url)
    assert found == ResolvedInput(places["cache"] / "online_retail.parquet", "cache")
    assert server.hits == []  # no download attempted


def test_cache_folder_comes_from_env(tmp_path: Path):
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / "online_retail.parquet").write_bytes(b"p")
    found = resolve_input(env={"CUSTSEG_CACHE_DIR": str(cache)})
    assert found == ResolvedInput(cache / "online_retail.parquet", "cache")


def test_download_when_nothing_local_then_cache(tmp_path: Path, server: LocalServer):
    url = server.serve(
        "/online+retail.zip", Route(zip_bytes({"Online Retail.xlsx": workbook_bytes()}))
    )
    cache = tmp_path / "fresh" / "cache"  # created on demand
    seen: list[tuple[int, int | None]] = []
    found = resolve_input(
        env={}, cache_dir=cache, url=url, progress=lambda done, total: seen.append((done, total))
    )
    assert found == ResolvedInput(cache / "Online Retail.xlsx", "download")
    assert listing(cache) == ["Online Retail.xlsx"]  # no archive, no temporary file
    size = len(server.routes["/online+retail.zip"].body)
    assert seen[-1] == (size, size)

    again = resolve_input(env={}, cache_dir=cache, url=url)
    assert again == ResolvedInput(cache / "Online Retail.xlsx", "cache")
    assert server.hits == ["/online+retail.zip"]

    # the downloaded workbook is the one served, and converts to the expected lines
    lines = pq.read_table(xlsx_to_parquet(found.path, tmp_path / "xl")).to_pandas()
    assert lines["InvoiceNo"].tolist() == ["536365", "536365", "C536379"]
    assert lines["StockCode"].tolist() == ["85123A", "71053", "D"]
    assert lines["CustomerID"].tolist() == ["17850", "17850", "14527"]


def test_no_download_allowed(tmp_path: Path, server: LocalServer):
    cache = tmp_path / "cache"
    with pytest.raises(InputFileError) as info:
        resolve_input(env={}, cache_dir=cache, url=server.base + "/x.zip", allow_download=False)
    message = str(info.value)
    assert str(cache) in message and "CUSTSEG_DATA" in message and "--input" in message
    assert server.hits == []


# --------------------------------------------------------------------------- user mistakes


def test_missing_option_path_is_named(tmp_path: Path):
    missing = tmp_path / "typo.parquet"
    with pytest.raises(InputFileError) as info:
        resolve_input(missing, env={}, cache_dir=tmp_path)
    assert str(info.value).startswith(f"{missing}: --input: no such file or folder")


def test_option_folder_uses_the_same_file_rule(places: dict[str, Path]):
    found = resolve_input(places["folder"], env={}, cache_dir=places["cache"])
    assert found == ResolvedInput(places["folder"] / "online_retail.parquet", "option")
    (places["folder"] / "online_retail.parquet").unlink()
    (places["folder"] / "Online Retail.xlsx").unlink()
    with pytest.raises(InputFileError, match="--input: the folder holds neither"):
        resolve_input(places["folder"], env={}, cache_dir=places["cache"])


def test_missing_env_path_is_named(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(InputFileError) as info:
        resolve_input(env={"CUSTSEG_DATA": str(missing)}, cache_dir=tmp_path)
    assert str(info.value).startswith(f"{missing}: CUSTSEG_DATA names a file or folder that")


def test_env_folder_without_data_lists_what_was_looked_for(tmp_path: Path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "online_retail.csv").write_text("x")
    with pytest.raises(InputFileError) as info:
        resolve_input(env={"CUSTSEG_DATA": str(folder)}, cache_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(f"{folder}: CUSTSEG_DATA: the folder holds neither")
    assert "online_retail.parquet nor Online Retail.xlsx" in message


# --------------------------------------------------------------------------- download checks


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>maintenance</html>", "is not a valid zip archive"),
        (
            zip_bytes({"README.txt": b"hello"}),
            "does not hold 'Online Retail.xlsx' (it holds README.txt)",
        ),
        (zip_bytes({"Online Retail.xlsx": b"not a workbook"}), "is not a readable workbook"),
        (
            zip_bytes({"Online Retail.xlsx": workbook_bytes(["Invoice", "Price", "Customer ID"])}),
            "does not have the expected header",
        ),
    ],
    ids=["not-zip", "no-workbook", "corrupt-workbook", "wrong-header"],
)
def test_bad_archive_is_rejected_and_leaves_nothing(
    tmp_path: Path, server: LocalServer, body: bytes, problem: str
):
    url = server.serve("/online+retail.zip", Route(body))
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as info:
        download_dataset(url, cache, timeout=5, progress=None)
    message = str(info.value)
    assert problem in message
    assert f"put 'Online Retail.xlsx' in {cache}" in message
    assert listing(cache) == []


@pytest.mark.parametrize(
    ("compression", "offset", "problem"),
    [
        (zipfile.ZIP_DEFLATED, 40, "the archive from .* cannot be read"),  # zlib fails
        # Usually inflates to wrong bytes (bad CRC); the workbook's bytes carry its creation
        # time, so on some runs the zeroed bytes break the deflate stream itself instead.
        (
            zipfile.ZIP_DEFLATED,
            200,
            "is not a valid zip archive \\(Bad CRC-32|the archive from .* cannot be read",
        ),
        (zipfile.ZIP_STORED, 200, "is not a valid zip archive \\(Bad CRC-32"),
    ],
    ids=["deflated-zlib", "deflated-crc", "stored-crc"],
)
def test_damaged_member_is_rejected_and_leaves_nothing(
    tmp_path: Path, server: LocalServer, compression: int, offset: int, problem: str
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        zf.writestr("Online Retail.xlsx", workbook_bytes())
    damaged = bytearray(buffer.getvalue())
    start = damaged.index(b"Online Retail.xlsx") + len("Online Retail.xlsx") + offset
    damaged[start : start + 64] = bytes(64)
    url = server.serve("/online+retail.zip", Route(bytes(damaged)))
    with pytest.raises(DownloadError, match=problem):
        download_dataset(url, tmp_path, timeout=5)
    assert listing(tmp_path) == []


def test_offline_gives_one_line_naming_the_cache_folder(tmp_path: Path):
    url = closed_port_url()
    cache = tmp_path / "my cache"
    with pytest.raises(DownloadError) as info:
        resolve_input(env={}, cache_dir=cache, url=url, timeout=5)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"download of {url} failed: Connection refused.")
    assert f"Download {url} by hand, unzip it and put 'Online Retail.xlsx' in {cache}" in message
    assert "set CUSTSEG_DATA" in message and "--input PATH" in message
    assert listing(cache) == []


def test_http_error(tmp_path: Path, server: LocalServer):
    with pytest.raises(DownloadError, match=r"failed: HTTP 404 Not Found\."):
        download_dataset(server.base + "/missing.zip", tmp_path, timeout=5)
    assert listing(tmp_path) == []


def test_cut_short_transfer(tmp_path: Path, server: LocalServer):
    body = zip_bytes({"Online Retail.xlsx": workbook_bytes()})
    url = server.serve("/z.zip", Route(body[:100], declared_length=len(body)))
    with pytest.raises(DownloadError, match=f"cut short: 100 of {len(body)} bytes"):
        download_dataset(url, tmp_path, timeout=5)
    assert listing(tmp_path) == []


def test_timeout(tmp_path: Path, server: LocalServer):
    url = server.serve("/slow.zip", Route(b"late", hold=threading.Event()))
    with pytest.raises(DownloadError, match="timed out"):
        download_dataset(url, tmp_path, timeout=0.2)
    assert listing(tmp_path) == []


def test_interrupted_download_leaves_nothing(tmp_path: Path, server: LocalServer):
    url = server.serve("/z.zip", Route(zip_bytes({"Online Retail.xlsx": workbook_bytes()})))

    def interrupt(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_dataset(url, tmp_path, timeout=5, progress=interrupt)
    assert listing(tmp_path) == []


def test_workbook_in_a_subfolder_of_the_archive_is_accepted(tmp_path: Path, server: LocalServer):
    url = server.serve("/z.zip", Route(zip_bytes({"data/Online Retail.xlsx": workbook_bytes()})))
    assert download_dataset(url, tmp_path, timeout=5) == tmp_path / "Online Retail.xlsx"
    assert listing(tmp_path) == ["Online Retail.xlsx"]


def test_uci_url_and_expected_header():
    assert UCI_URL == "https://archive.ics.uci.edu/static/public/352/online+retail.zip"
    assert EXPECTED_HEADER == (
        "InvoiceNo", "StockCode", "Description", "Quantity",
        "InvoiceDate", "UnitPrice", "CustomerID", "Country",
    )  # fmt: skip
