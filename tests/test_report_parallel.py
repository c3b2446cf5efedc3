"""Figures drawn by a second process: same bytes, and never a hang, an error or an orphan."""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pandas as pd
import pytest
from test_report import FIGURE_IDS, LINES, _summary

from custseg import figure_worker
from custseg.distributions import compute_line_distributions
from custseg.errors import ColumnError, ParameterError
from custseg.i18n import Translator
from custseg.report import (
    FigureJob,
    FigureWorker,
    PlotCall,
    draw_job,
    write_report,
)
from custseg.report_builder import early_figure_jobs, report_context

TIMES = re.compile(r"\d+[.,]\d\d\s?s\b")  # the appendix's timings differ from run to run


@pytest.fixture(scope="module")
def summary():
    con = duckdb.connect()
    con.register("frame_", LINES)
    con.execute("CREATE TABLE lines AS SELECT * FROM frame_")
    return _summary(compute_line_distributions(con, "lines", bins=5, top_countries=5))


@pytest.fixture(scope="module")
def worker():
    with FigureWorker(timeout=60) as started:
        assert started.wait_ready(60)
        yield started


@pytest.fixture(scope="module")
def serial(summary, tmp_path_factory):
    """The English PNG and French SVG reports drawn in this process only."""
    out = {}
    for lang, fmt in (("en", "png"), ("fr", "svg")):
        folder = tmp_path_factory.mktemp(f"serial_{lang}")
        html = write_report(summary, folder, lang=lang, figure_format=fmt).read_text("utf-8")
        out[lang, fmt] = (folder, html)
    return out


def files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "figures").iterdir())}


@pytest.mark.parametrize(("lang", "fmt"), [("en", "png"), ("fr", "svg")])
def test_figures_and_html_are_the_same_bytes_with_a_worker(
    summary, serial, worker, tmp_path, lang, fmt
):
    before = worker.drawn
    html = write_report(summary, tmp_path, lang=lang, figure_format=fmt, renderer=worker).read_text(
        "utf-8"
    )
    drawn = worker.drawn - before
    assert worker.failure is None
    assert 1 <= drawn < len(FIGURE_IDS)  # the work was shared
    folder, serial_html = serial[lang, fmt]
    assert files(tmp_path) == files(folder)
    assert len(files(tmp_path)) == len(FIGURE_IDS)
    assert TIMES.sub("", html) == TIMES.sub("", serial_html)


def test_figures_drawn_ahead_are_taken_when_identical_and_redrawn_otherwise(
    summary, serial, worker, tmp_path
):
    jobs = early_figure_jobs(summary, Translator("en"))
    ids = {job.id for job in jobs}
    # The data and preprocessing sections' figures, known before any model is fitted.
    assert ids == set(FIGURE_IDS[:6])  # data_* and features_before_after
    hits, drawn = worker.prefetch_hits, worker.drawn
    worker.prefetch(jobs)
    deadline = time.monotonic() + 60
    while worker.drawn - drawn < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.05)  # (a report started earlier takes over what is not drawn yet)
    write_report(summary, tmp_path, renderer=worker)
    # Every early figure was drawn ahead and used: the same bytes as drawn serially.
    assert worker.prefetch_hits - hits == len(jobs)
    assert files(tmp_path) == files(serial["en", "png"][0])
    # Drawn ahead for another language: not the same jobs, so not used (and not wrong).
    worker.prefetch(early_figure_jobs(summary, Translator("fr")))
    write_report(summary, tmp_path / "again", renderer=worker)
    assert worker.prefetch_hits - hits == len(jobs)
    assert files(tmp_path / "again") == files(serial["en", "png"][0])


def _until(condition, seconds=30.0):
    """Poll ``condition`` (a state of the worker's threads, not a timing) until it holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker's state never came"
        time.sleep(0.01)


@contextlib.contextmanager
def frozen(worker):
    """The worker process stopped (SIGSTOP): alive, answering nothing, until SIGCONT."""
    pid = worker._process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


class DrawnHere(list):
    """Ids of the figures drawn in this process, in order; ``hooks`` run before each."""

    def __init__(self):
        super().__init__()
        self.hooks = []


@pytest.fixture
def drawn_here(monkeypatch):
    ids = DrawnHere()
    real = figure_worker.draw_job

    def draw_here(job):
        ids.append(job.id)
        for hook in ids.hooks:
            hook(job)
        return real(job)

    monkeypatch.setattr(figure_worker, "draw_job", draw_here)
    return ids


def test_a_report_takes_over_the_figures_queued_ahead_and_waits_only_for_the_current_one(
    summary, serial, tmp_path, drawn_here
):
    jobs = early_figure_jobs(summary, Translator("en"))
    with FigureWorker(timeout=60) as ahead:
        assert ahead.wait_ready(60)
        with frozen(ahead) as pid:
            ahead.prefetch(jobs)
            _until(lambda: ahead._in_flight is not None)  # its first figure, never answered
            last = len(FIGURE_IDS) - 1

            def wake(job):  # nothing left here but the worker's figure: let it answer
                if len(drawn_here) == last:
                    os.kill(pid, signal.SIGCONT)

            drawn_here.hooks.append(wake)
            write_report(summary, tmp_path, renderer=ahead)
        # The five figures queued ahead but not started, and the ten others, were drawn
        # here while the worker was stuck on its first; that one was waited for, not redrawn.
        assert sorted(drawn_here) == sorted(set(FIGURE_IDS) - {jobs[0].id})
        assert ahead.drawn == 1 and ahead.prefetch_hits == 1 and ahead.failure is None
    assert files(tmp_path) == files(serial["en", "png"][0])


def test_a_report_drops_the_figures_queued_for_other_data_and_does_not_wait_for_them(
    summary, serial, tmp_path, drawn_here
):
    good = FigureJob(
        "k_elbow",
        PlotCall(
            "plot_elbow",
            pd.DataFrame({"k": [2, 3, 4], "inertia": [9.0, 5.0, 4.0]}),
            chosen_k=3,
            knee=3,
            tr=Translator("en"),
        ),
    )
    with FigureWorker(timeout=60) as ahead:
        assert ahead.wait_ready(60)
        with frozen(ahead):
            ahead.prefetch(early_figure_jobs(summary, Translator("fr")))
            _until(lambda: ahead._in_flight is not None)
            write_report(summary, tmp_path, renderer=ahead)  # English
            # Every figure drawn here, once; the French ones not at all, nor waited for.
            assert sorted(drawn_here) == sorted(FIGURE_IDS)
            assert not ahead._queue and ahead.drawn == 0 and ahead.failure is None
        # The late French answer is told apart from the next figure's.
        remote = ahead.draw(good)
        assert remote is not None and remote.remote and ahead.prefetch_hits == 0
        assert remote.image == figure_worker.draw_job(good).image
    assert files(tmp_path) == files(serial["en", "png"][0])


def test_a_worker_that_stops_reading_a_large_figure_is_given_up_after_its_timeout(drawn_here):
    table = pd.DataFrame({"k": [2, 3, 4], "inertia": [9.0, 5.0, 4.0], "note": ["x" * 100_000] * 3})
    large = FigureJob(
        "k_elbow", PlotCall("plot_elbow", table, chosen_k=3, knee=3, tr=Translator("en"))
    )
    assert len(pickle.dumps(large)) > 2**18  # more than a pipe holds: sending it blocks
    with FigureWorker(timeout=1.0) as stuck:
        assert stuck.wait_ready(60)
        with frozen(stuck):
            stuck.prefetch([large])
            _until(lambda: stuck._in_flight is not None)  # blocked in the middle of sending
            drawn = stuck.draw_all([large])
        assert "no answer within 1 s" in stuck.failure
    assert drawn_here == ["k_elbow"]
    assert drawn["k_elbow"].image == figure_worker.draw_job(large).image


def test_a_figure_that_fails_in_the_worker_is_drawn_here_once(summary, monkeypatch, drawn_here):
    bad = FigureJob(
        "data_findings", PlotCall("plot_findings", pd.DataFrame({"x": [1]}), tr=Translator("en"))
    )
    others = early_figure_jobs(summary, Translator("en"))[1:]
    sent: list[str] = []
    exchange = FigureWorker._exchange

    def counted(self, payload, **kwargs):
        sent.append(pickle.loads(payload).id)
        return exchange(self, payload, **kwargs)

    monkeypatch.setattr(FigureWorker, "_exchange", counted)
    with FigureWorker(timeout=60) as fresh:
        assert fresh.wait_ready(60)
        with pytest.raises(ColumnError, match="lack the columns finding, rows"):
            fresh.draw_all([bad, *others])  # the worker takes it first (the queue's front)
        assert sent[0] == "data_findings" and sent.count("data_findings") == 1
        assert drawn_here.count("data_findings") == 1
        # An error here ends the worker, as Ctrl-C does.
        assert fresh.failure == "interrupted"


def test_ctrl_c_while_drawing_ends_the_worker(summary, monkeypatch):
    def interrupted(job):
        raise KeyboardInterrupt

    with FigureWorker(timeout=60) as fresh:
        assert fresh.wait_ready(60)
        monkeypatch.setattr(figure_worker, "draw_job", interrupted)
        with pytest.raises(KeyboardInterrupt):
            fresh.draw_all(early_figure_jobs(summary, Translator("en")))
        assert fresh.failure == "interrupted" and not fresh.usable and not fresh._queue
        assert fresh._process.wait(10) is not None  # terminated, not left drawing


def test_starting_a_worker_imports_nothing_heavy_here():
    code = (
        "import sys\n"
        "from custseg.figure_worker import FigureWorker\n"
        "with FigureWorker() as w:\n"
        "    ready = w.wait_ready(60)\n"
        "heavy = ('pandas', 'numpy', 'matplotlib', 'jinja2', 'duckdb', 'custseg.report')\n"
        "print(ready, ','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]  # started up, and nothing heavy loaded here


def test_global_rcparams_of_the_caller_do_not_change_the_figures(summary, serial, tmp_path):
    import matplotlib as mpl

    with mpl.rc_context({"lines.linewidth": 7.0, "font.size": 20.0, "axes.facecolor": "red"}):
        write_report(summary, tmp_path)
    assert files(tmp_path) == files(serial["en", "png"][0])


def test_a_report_can_start_its_own_worker(summary, serial, tmp_path):
    write_report(summary, tmp_path, workers=2)
    assert files(tmp_path) == files(serial["en", "png"][0])
    with pytest.raises(ParameterError, match="workers must be 1 or 2"):
        write_report(summary, tmp_path, workers=3)


def test_group_timings_add_up_the_figures_wherever_drawn(summary, worker):
    context = report_context(summary, Translator("en"), renderer=worker)
    timing = next(
        b for b in context.sections[-1].blocks if getattr(b, "id", "") == "appendix_timings"
    )
    labels = [row[0] for row in timing.rows]
    assert labels == [
        "Loading the plotting library",
        "Figures: data and anomalies",
        "Figures: preprocessing",
        "Figures: choosing hyper-parameters",
        "Figures: segments",
        "Text and tables",
        "Total",
    ]
    for row in timing.rows[1:5]:  # every figure group took some drawing time, CPU included
        assert float(row[1].split()[0]) > 0 and float(row[2].split()[0]) > 0
    assert all(f.payload for f in context.figures)


def test_plot_calls_travel_without_the_catalogue_and_draw_the_same():
    table = pd.DataFrame({"k": [2, 3, 4, 5], "inertia": [90.0, 50.0, 35.0, 30.0]})
    call = PlotCall("plot_elbow", table, chosen_k=3, knee=3, tr=Translator("fr"))
    data = pickle.dumps(call)
    assert len(data) < 2_000  # the language travels, not the ~2,000 strings of the catalogue
    again = pickle.loads(data)
    assert again.lang == "fr" and again.function == "plot_elbow"
    job = FigureJob("k_elbow", call, "png")
    assert draw_job(FigureJob("k_elbow", again, "png")).image == draw_job(job).image


def test_an_error_in_the_worker_is_raised_here_by_the_serial_fallback(worker):
    findings = PlotCall("plot_findings", pd.DataFrame({"x": [1]}), tr=Translator("en"))
    bad = FigureJob("data_findings", findings, "png")
    assert worker.draw(bad) is None  # the worker answers with its error...
    assert worker.failure is None and worker.usable  # ...and stays usable
    with pytest.raises(ColumnError, match="lack the columns finding, rows"):
        draw_job(bad)  # the fallback draws it here, where the real error surfaces
    table = pd.DataFrame({"k": [2, 3, 4], "inertia": [9.0, 5.0, 4.0]})
    good = FigureJob(
        "k_elbow", PlotCall("plot_elbow", table, chosen_k=3, knee=3, tr=Translator("en"))
    )
    remote = worker.draw(good)
    assert remote is not None and remote.remote
    assert remote.image == draw_job(good).image


def test_a_dead_worker_falls_back_to_drawing_here(summary, serial, tmp_path):
    with FigureWorker() as dead:
        dead._process.kill()
        dead._process.wait(5)
        write_report(summary, tmp_path, renderer=dead)
        assert dead.drawn == 0 and dead.failure is not None
    assert files(tmp_path) == files(serial["en", "png"][0])


def test_a_hung_worker_is_given_up_after_its_timeout(summary, serial, tmp_path):
    with FigureWorker(timeout=1.0) as hung:
        os.kill(hung._process.pid, signal.SIGSTOP)  # alive, never answers
        start = time.monotonic()
        write_report(summary, tmp_path, renderer=hung)
        assert "no answer within 1 s" in hung.failure
        process = hung._process
    assert process.poll() is not None  # stopped processes are killed too
    assert time.monotonic() - start < 30
    assert files(tmp_path) == files(serial["en", "png"][0])


PARENT = textwrap.dedent(
    """
    import sys, time
    from custseg.report import FigureWorker
    worker = FigureWorker().start()
    print(worker._process.pid, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_no_orphan_when_the_parent_is_interrupted_or_killed(sig):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    pid = int(parent.stdout.readline())
    parent.send_signal(sig)
    parent.wait(30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the worker ends once its imports are done (EOF)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"worker {pid} outlived its parent")
