"""Benchmark custseg against the pandas way, stage by stage, and write RESULTS.md.

Every measured step runs in a fresh Python process (``benchmarks/steps.py``);
its wall time is measured inside the step, its peak memory is the process's
maximum resident set size as the kernel reports it to ``os.wait4``, so numbers
never contaminate each other. Each step has a time-out: a step that exceeds it
is killed and reported as such.

Examples
--------
``python benchmarks/run.py`` (real dataset from parquet and xlsx, 10M and 100M lines)
``python benchmarks/run.py --sizes real,10M`` (quick)
``python benchmarks/run.py --sizes 1B --tools custseg --steps features`` (the billion)

Synthetic files are generated once with ``custseg synth`` into ``--data-dir``
(default ``benchmarks/data/``, git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from steps import STEPS  # beside this script (its folder is on sys.path when run)

HERE = Path(__file__).resolve().parent
# The project's data lives in ../shared/data beside the repository (as in CI).
REAL_PARQUET = Path(
    os.environ.get(
        "CUSTSEG_BENCH_PARQUET",
        str(HERE.parent.parent / "shared" / "data" / "online_retail.parquet"),
    )
)
REAL_XLSX = Path(os.environ.get("CUSTSEG_BENCH_XLSX", "/tmp/online_retail.xlsx"))
SIZES = {"10M": 10_000_000, "100M": 100_000_000, "1B": 1_000_000_000}
ALL_STEPS = STEPS  # what steps.py can measure, in this order
# The pandas way has no report and no audit beyond df.describe(); its "pipeline" is
# read + filter + groupby + scale + KMeans loop with silhouette + final KMeans + DBSCAN.
# Its features are R, F and M: "features" compares them with custseg's eight columns,
# "features_rfm" with custseg's same three (--columns recency,frequency,monetary).
PANDAS_STEPS = ("load", "audit", "features", "features_rfm", "kselect", "cluster", "pipeline")


@dataclass
class Measure:
    dataset: str
    tool: str
    step: str
    seconds: float | None = None
    peak_mb: float | None = None
    status: str = "ok"
    detail: dict = field(default_factory=dict)
    load_avg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    command: str = ""


def run_step(
    tool: str, step: str, path: Path, work: Path, timeout: float, env: dict | None = None, extra=()
) -> Measure:
    """Run one step in a fresh process; wall time from the step, peak RSS from wait4."""
    cmd = [sys.executable, str(HERE / "steps.py"), tool, step, str(path), str(work), *extra]
    load = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        t0 = time.monotonic()
        status = "ok"
        while True:
            pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                proc.send_signal(signal.SIGKILL)
                pid, code, usage = os.wait4(proc.pid, 0)
                status = f"killed after {timeout:.0f} s"
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(code)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    m = Measure(
        dataset=path.name,
        tool=tool,
        step=step,
        peak_mb=usage.ru_maxrss / 1024,
        load_avg=load,
        command=" ".join(["python benchmarks/steps.py", tool, step, str(path), "WORKDIR", *extra]),
    )
    if status != "ok":
        m.status = status
        m.seconds = time.monotonic() - t0
    elif proc.returncode != 0:
        tail = (stderr.strip().splitlines() or ["?"])[-1]
        m.status = f"failed (exit {proc.returncode}): {tail[:200]}"
    else:
        res = json.loads(stdout.strip().splitlines()[-1])
        m.seconds = res["seconds"]
        m.detail = res.get("detail", {})
        if "skipped" in m.detail:
            m.status = m.detail.pop("skipped")
    return m


def ensure_synthetic(label: str, data_dir: Path) -> Path:
    """The synthetic file of ``label`` lines, generated with `custseg synth` if missing."""
    rows = SIZES[label]
    path = data_dir / f"synth_{rows}.parquet"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        custseg = Path(sys.executable).with_name("custseg")
        t0 = time.monotonic()
        subprocess.run([str(custseg), "synth", "--rows", str(rows), "--out", str(path)], check=True)
        log(f"generated {path} in {time.monotonic() - t0:.0f} s")
    return path


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def machine() -> dict:
    """CPU, memory and versions of the machine the benchmark runs on."""
    import duckdb
    import numpy
    import pandas
    import pyarrow
    import sklearn

    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    try:
        import openpyxl

        openpyxl_version = openpyxl.__version__
    except ImportError:
        openpyxl_version = "not installed"
    import custseg

    disk = shutil.disk_usage(HERE)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": f"{mem_kb / 2**20:.1f} GiB",
        "disk free": f"{disk.free / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "custseg": custseg.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "scikit-learn": sklearn.__version__,
        "openpyxl": openpyxl_version,
    }


def fmt_s(v: float | None) -> str:
    return "-" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}")


def fmt_mb(v: float | None) -> str:
    return "-" if v is None else (f"{v:,.0f} MB" if v < 1024 else f"{v / 1024:.2f} GB")


def table(measures: list[Measure]) -> str:
    """Markdown table: one row per dataset and step, custseg vs pandas, with ratios."""
    by = {(m.dataset, m.step, m.tool): m for m in measures}
    keys = []
    for m in measures:
        if (m.dataset, m.step) not in keys:
            keys.append((m.dataset, m.step))
    lines = [
        "| dataset | step | custseg time (s) | custseg peak RSS | pandas time (s) | pandas peak RSS "
        "| speed-up | memory ratio | load avg | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for ds, step in keys:
        c, p = by.get((ds, step, "custseg")), by.get((ds, step, "pandas"))
        ratio_t = ratio_m = "-"
        if c and p and c.status == "ok" and p.status == "ok" and c.seconds and p.seconds:
            ratio_t = f"{p.seconds / c.seconds:.1f}x"
            ratio_m = f"{p.peak_mb / c.peak_mb:.1f}x"
        notes = []
        for m in (c, p):
            if m and m.status != "ok":
                notes.append(f"{m.tool}: {m.status}")
        for m in (c, p):
            if m and m.detail:
                d = {k: v for k, v in m.detail.items() if k not in ("timings", "described")}
                notes.append(f"{m.tool}: {json.dumps(d, separators=(',', ':'))}")
        la = (c or p).load_avg
        lines.append(
            f"| {ds} | {step} | {fmt_s(c.seconds) if c else 'n/a'} | {fmt_mb(c.peak_mb) if c else 'n/a'} "
            f"| {fmt_s(p.seconds) if p else 'n/a'} | {fmt_mb(p.peak_mb) if p else 'n/a'} "
            f"| {ratio_t} | {ratio_m} | {la[0]:.1f} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def stage_timings(measures: list[Measure]) -> str:
    """The pipeline's own per-stage timings (summary.json) for each custseg pipeline run."""
    out = []
    for m in measures:
        if m.tool == "custseg" and m.step.startswith("pipeline") and m.status == "ok":
            t = m.detail.get("timings", {})
            out.append(
                f"- {m.dataset}, {m.step}: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items())
            )
    return "\n".join(out)


def write_section(path: Path, key: str, text: str) -> None:
    """Put ``text`` in ``path`` between markers named by ``key``, replacing a previous run
    with the same options and keeping everything else (the hand-written analysis)."""
    start, end = f"<!-- bench: {key} -->", f"<!-- /bench: {key} -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{start}\n{text.replace('# custseg benchmark', '## Measured')}\n{end}"
    if start in old and end in old:
        new = old[: old.index(start)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + block + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        default="real,xlsx,10M,100M",
        help="comma-separated: real (parquet), xlsx (the real workbook), 10M, 100M, 1B",
    )
    ap.add_argument("--tools", default="custseg,pandas", help="custseg, pandas or both")
    ap.add_argument("--steps", default=",".join(ALL_STEPS), help=f"subset of {','.join(ALL_STEPS)}")
    ap.add_argument("--data-dir", type=Path, default=HERE / "data")
    ap.add_argument(
        "--timeout", type=float, default=900.0, help="seconds per step before it is killed"
    )
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw measures as JSON")
    args = ap.parse_args(argv)

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    measures: list[Measure] = []
    started = dt.datetime.now().astimezone()
    for size in sizes:
        if size == "real":
            datasets = [("real parquet", REAL_PARQUET, {})]
        elif size == "xlsx":
            datasets = [("real xlsx", REAL_XLSX, {})]
        else:
            datasets = [(f"synthetic {size}", ensure_synthetic(size, args.data_dir), {})]
        for label, path, env in datasets:
            with tempfile.TemporaryDirectory(prefix="custseg-bench-") as work:
                work = Path(work)
                cache = work / "xlsx-cache"
                # DuckDB spills to CUSTSEG_TEMP_DIR (by default .tmp/ in the current folder).
                spill = os.environ.get("CUSTSEG_TEMP_DIR") or str(work / "spill")
                env = {**env, "CUSTSEG_CACHE_DIR": str(cache), "CUSTSEG_TEMP_DIR": spill}
                for tool in tools:
                    for step in steps:
                        if tool == "pandas" and step not in PANDAS_STEPS:
                            continue
                        runs = [(step, {})]
                        if (
                            size == "xlsx"
                            and tool == "custseg"
                            and step in ("load", "pipeline", "run")
                        ):
                            # first time (empty cache) then again (workbook cached as parquet)
                            shutil.rmtree(cache, ignore_errors=True)
                            runs = [(step + " (first)", {}), (step + " (cached)", {})]
                        if size == "xlsx" and tool == "pandas" and step != "load":
                            continue  # every pandas step would re-read the workbook: same as load
                        for name, extra_env in runs:
                            log(f"{label}: {tool} {name} ...")
                            m = run_step(
                                tool, step, path, work, args.timeout, env={**env, **extra_env}
                            )
                            m.dataset, m.step = label, name
                            log(f"   {m.status} {fmt_s(m.seconds)} s, peak {fmt_mb(m.peak_mb)}")
                            measures.append(m)
    info = machine()
    header = [
        "# custseg benchmark (generated by benchmarks/run.py)",
        "",
        f"Run {started:%Y-%m-%d %H:%M %Z} with `python benchmarks/run.py {' '.join(argv or sys.argv[1:])}`.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "Each step runs in a fresh process; time = wall time of the step itself (imports and reading "
        "prerequisites excluded; for custseg `run` and `report`, the whole `custseg run` / "
        "`custseg report` command as a user types it, start-up and imports included), peak RSS = the process's maximum resident set size (everything "
        "included). Reproduce one cell with the command in the JSON output, e.g. "
        "`python benchmarks/steps.py custseg features FILE /tmp/w`.",
        "",
        table(measures),
        "",
        "custseg pipeline stage timings (from summary.json):",
        "",
        stage_timings(measures),
        "",
    ]
    text = "\n".join(header)
    sys.stdout.write(text)
    write_section(args.out, f"{args.sizes} {args.tools} {args.steps}", text)
    if args.json:
        args.json.write_text(
            json.dumps([m.__dict__ for m in measures], indent=1, default=str), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
