"""The command line: documented, light to start, thin over the library."""

from __future__ import annotations

import json
import subprocess
import sys

import duckdb
import pytest
from tests_support import ROOT  # noqa: I001

from custseg.cli import app, main


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_group(app)
    return sorted(group.commands)


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands()
    assert set(commands) == {"run", "audit", "features", "report", "synth"}
    for name in commands:
        assert f"custseg {name}" in readme, f"`custseg {name}` is not in README.md"


def test_cli_start_up_stays_light():
    code = (
        "import sys, custseg.cli; "
        "print(','.join(m for m in ('matplotlib', 'seaborn', 'sklearn', 'pandas', 'duckdb', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_audit_command_prints_the_findings(hand_lines, tmp_path, capsys):
    src = tmp_path / "lines.parquet"
    hand_lines.to_parquet(src)
    assert main(["audit", str(src), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    findings = {f["finding"]: f["rows"] for f in data["audit"]["findings"]}
    assert findings["missing_customer_id"] == 3
    assert findings["exact_duplicates"] == 1
    assert main(["audit", str(src)]) == 0
    table = capsys.readouterr().out
    assert "missing customer id" in table and "37.50%" in table


def test_features_command_real_dataset(real_path, tmp_path):
    out = tmp_path / "features.parquet"
    assert main(["--quiet", "features", str(real_path), "--out", str(out)]) == 0
    n, total = (
        duckdb.connect()
        .execute(f"SELECT count(*), round(sum(monetary), 2) FROM '{out}'")
        .fetchone()
    )
    assert n == 4_334
    common = tmp_path / "common.parquet"
    args = [
        "--quiet",
        "features",
        str(real_path),
        "--out",
        str(common),
        "--non-product",
        "keep",
        "--duplicates",
        "keep",
    ]
    assert main(args) == 0
    n, total = (
        duckdb.connect()
        .execute(f"SELECT count(*), round(sum(monetary), 2) FROM '{common}'")
        .fetchone()
    )
    assert n == 4_338
    assert total == pytest.approx(8_911_407.90, abs=0.01)
    # Only the columns asked for, in that order, with the same values.
    rfm = tmp_path / "rfm.parquet"
    args = ["--quiet", "features", str(real_path), "--out", str(rfm)]
    assert main([*args, "--columns", "monetary,recency,frequency"]) == 0
    con = duckdb.connect()
    assert [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM '{rfm}'").fetchall()] == [
        "customer_id",
        "monetary",
        "recency",
        "frequency",
    ]
    differ = con.execute(
        f"""SELECT count(*) FROM '{rfm}' r JOIN '{out}' f USING (customer_id)
            WHERE r.monetary <> f.monetary OR r.recency <> f.recency
               OR r.frequency <> f.frequency"""
    ).fetchone()[0]
    assert differ == 0 and con.execute(f"SELECT count(*) FROM '{rfm}'").fetchone()[0] == 4_334


def test_usage_error_exit_code_2(capsys):
    assert main(["run", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err


def test_background_imports_load_modules_and_stop_quietly_at_a_broken_one():
    code = (
        "import sys; from custseg.cli import _import_in_background; "
        "t = _import_in_background(('custseg.knee', 'custseg_no_such_module', 'custseg.rfm')); "
        "t.join(); print('custseg.knee' in sys.modules, 'custseg.rfm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The failing import ends the thread silently (the stage that needs a module
    # imports it again and reports the error); nothing after it is loaded.
    assert out.stdout.split() == ["True", "False"]
    assert out.stderr == ""


START_ORDER = """
import json, sys
import custseg.figure_worker as fw
from custseg.cli import main
started = []
start = fw.FigureWorker.start
def recording_start(self):
    heavy = ("pandas", "duckdb", "matplotlib", "custseg.pipeline", "custseg.report")
    started.append((self, [m for m in heavy if m in sys.modules]))
    return start(self)
fw.FigureWorker.start = recording_start
code = main(sys.argv[1:])
print(json.dumps({
    "code": code,
    "loaded_before_start": [loaded for _, loaded in started],
    "ended": [w._process is not None and w._process.poll() is not None for w, _ in started],
}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--quiet", "run", "--k-min", "5", "--k-max", "3", "--out", "{tmp}/out"],
        ["--quiet", "report", "{tmp}"],  # no summary.json there
    ],
    ids=["run", "report"],
)
def test_the_figure_worker_starts_before_the_heavy_imports_and_ends_on_an_error(args, tmp_path):
    argv = [a.format(tmp=tmp_path) for a in args]
    out = subprocess.run(
        [sys.executable, "-c", START_ORDER, *argv], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    # Started first (its start-up overlaps pandas'), then the command failed on the
    # user's mistake (exit 2) and the worker process was ended with it.
    assert result == {"code": 2, "loaded_before_start": [[]], "ended": [True]}
    assert "error:" in out.stderr
