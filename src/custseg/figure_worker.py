"""Report figures as jobs, and a second process that draws a share of them.

A figure of the report is a :class:`FigureJob`: an id, a :class:`PlotCall`
(a :mod:`custseg.plots` function by name, with its data) and a format.
:func:`draw_job` draws one in this process. A :class:`FigureWorker` is a
second interpreter that draws jobs too: started at the beginning of a run, it
draws the figures whose data are known early (:meth:`FigureWorker.prefetch`)
while this process fits the models, then shares the rest of the report's
figures with this process (:meth:`FigureWorker.draw_all`). The images are the
same bytes whoever draws them.

This module is light on purpose (no pandas, matplotlib or jinja2 at import),
so that ``custseg run`` can start the worker before importing anything heavy;
:mod:`custseg.report` re-exports its names.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import struct
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from custseg.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

__all__ = [
    "DrawnFigure",
    "FigureFormat",
    "FigureJob",
    "FigureWorker",
    "PlotCall",
    "draw_job",
    "draw_jobs",
]

FigureFormat = Literal["png", "svg"]

_HEADER = struct.Struct("<Q")
"""A job travels as its sequence number, then its pickled bytes (the very bytes
that key it, so a job is pickled once); an empty message asks the worker to end."""


def _encode(fig: Figure, fmt: FigureFormat) -> bytes | str:
    from custseg import plots

    if fmt == "png":
        return plots.render_png(fig)
    if fmt == "svg":
        return plots.render_svg(fig)
    raise ParameterError(f"unknown figure format {fmt!r}", fix="use 'png' or 'svg'")


class PlotCall:
    """One figure to draw: a :mod:`custseg.plots` function by name, with its data.

    The call is picklable (the Translator is carried by its language only), so
    a :class:`FigureWorker` can draw it in another process; calling it draws
    the figure in this one. The result is a pure function of the arguments.

    Parameters
    ----------
    function : str
        Name of a ``plot_*`` function of :mod:`custseg.plots`.
    *args, **kwargs
        Its arguments (picklable data: DataFrames, dataclasses, dicts...);
        ``tr`` may be a :class:`~custseg.i18n.Translator`.

    Examples
    --------
    >>> call = PlotCall("plot_elbow", table, chosen_k=4, knee=4, tr=Translator("en"))  # doctest: +SKIP
    >>> fig = call()  # doctest: +SKIP
    """

    def __init__(self, function: str, /, *args: Any, **kwargs: Any) -> None:
        tr = kwargs.pop("tr", None)
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.lang: str | None = None
        if tr is not None:
            from custseg.i18n import Translator

            self.lang = tr.lang if isinstance(tr, Translator) else None

    def __repr__(self) -> str:
        return f"PlotCall({self.function!r}, lang={self.lang!r})"

    def __call__(self) -> Figure:
        """Draw the figure (the Axes' figure for one-panel plot functions)."""
        from matplotlib.figure import Figure

        from custseg import plots
        from custseg.i18n import Translator

        kwargs = dict(self.kwargs)
        if self.lang is not None:
            kwargs["tr"] = Translator(self.lang)
        out = getattr(plots, self.function)(*self.args, **kwargs)
        return out if isinstance(out, Figure) else out.figure


@dataclass(frozen=True)
class FigureJob:
    """A figure of the report waiting to be drawn: its id, its drawing and its format."""

    id: str
    draw: PlotCall
    fmt: FigureFormat = "png"


@dataclass(frozen=True)
class DrawnFigure:
    """An encoded figure and what drawing it cost, in the process that drew it.

    Attributes
    ----------
    image : bytes or str
        PNG bytes or SVG text.
    seconds, cpu_seconds : float
        Wall-clock and CPU seconds of drawing and encoding it.
    remote : bool
        Drawn by a :class:`FigureWorker`.
    """

    image: bytes | str
    seconds: float
    cpu_seconds: float
    remote: bool = False


def draw_job(job: FigureJob) -> DrawnFigure:
    """Draw and encode one figure in this process, timing it.

    Parameters
    ----------
    job : FigureJob

    Returns
    -------
    DrawnFigure
    """
    from custseg import plots

    start, cpu = time.perf_counter(), time.process_time()
    with plots.isolated_style():  # the same bytes whatever the global rcParams
        image = _encode(job.draw(), job.fmt)
    return DrawnFigure(image, time.perf_counter() - start, time.process_time() - cpu)


def draw_jobs(
    jobs: Sequence[FigureJob], renderer: FigureWorker | None = None
) -> dict[str, DrawnFigure]:
    """Draw ``jobs``, here only, or shared with ``renderer`` (:meth:`FigureWorker.draw_all`).

    Parameters
    ----------
    jobs : sequence of FigureJob
    renderer : FigureWorker, optional

    Returns
    -------
    dict
        The drawn figures by job id; the same bytes either way.
    """
    if renderer is not None:
        return renderer.draw_all(jobs)
    return {job.id: draw_job(job) for job in jobs}


# ---------------------------------------------------------------------------
# the worker process
# ---------------------------------------------------------------------------


def _worker_warm_up() -> None:
    """Import the plotting stack and draw a small figure (fonts, caches)."""
    from custseg import plots

    with plots.style():
        fig = plots._new_figure(2.0, 1.5)
        ax = fig.add_subplot()
        ax.plot([1.0, 2.0], [1.0, 3.0], label="0,9 £")
        ax.set_title("Warm-up")
        ax.set_xlabel("x")
        ax.legend()
    plots.render_png(fig)


_WORKER_CODE = (
    "import os, signal; signal.signal(signal.SIGINT, signal.SIG_IGN); os.nice(10); "
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from custseg.figure_worker import _worker_main; _worker_main(int(sys.argv[2]), int(sys.argv[3]))"
)
"""What the worker process runs: Ctrl-C is the parent's business (it ends the
worker), the parent's import path, then :func:`_worker_main` on two pipes."""


def _worker_main(inbox_fd: int, outbox_fd: int) -> None:  # pragma: no cover  (worker process)
    """Loop of the worker process: receive jobs, send back drawn figures.

    It ends when the parent sends an empty message, closes the pipe, or dies (EOF).
    """
    import os
    import traceback
    from multiprocessing.connection import Connection

    from custseg import startup

    inbox = Connection(inbox_fd, writable=False)
    outbox = Connection(outbox_fd, readable=False)
    startup.enable()  # a process of its own
    startup.pause()  # no cyclic collections while matplotlib and pandas load
    try:
        _worker_warm_up()
    except Exception:
        # drawing would fail the same way: the parent draws everything itself
        outbox.send(("broken", None, traceback.format_exc()))
        return
    finally:
        startup.resume()
    outbox.send(("ready", None, None))
    while True:
        try:
            message = inbox.recv_bytes()
        except (EOFError, OSError):
            return
        if not message:
            # Nothing to flush or close: skip the interpreter's teardown (matplotlib's
            # takes a few tenths of a second, which the parent would wait for).
            os._exit(0)
        seq = None
        try:
            (seq,) = _HEADER.unpack_from(message)
            job = pickle.loads(memoryview(message)[_HEADER.size :])
            drawn = draw_job(job)
        except Exception:  # a job that cannot be unpickled or drawn here
            reply: tuple[Any, ...] = ("error", seq, traceback.format_exc())
        else:
            reply = ("ok", seq, drawn.image, drawn.seconds, drawn.cpu_seconds)
        try:
            outbox.send(reply)
        except (EOFError, OSError):
            return


def _stop_process(process: Any, *conns: Any) -> None:
    """Ask the worker to end (empty message, then EOF), then terminate it, then kill it."""
    import os
    import subprocess

    if conns and process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            os.set_blocking(conns[0].fileno(), False)  # never wait on a full pipe
            conns[0].send_bytes(b"")
    for conn in conns:
        with contextlib.suppress(OSError):
            conn.close()
    for stop in (None, process.terminate, process.kill):
        if stop is not None and process.poll() is None:
            stop()
        try:
            process.wait(1.0)
            return
        except subprocess.TimeoutExpired:
            continue


# What one exchange with the worker ended with.
_OK, _ERROR, _GONE, _CANCELLED = "ok", "error", "gone", "cancelled"


class FigureWorker:
    """A second process that draws report figures, started early, used by the report.

    Start it (``with FigureWorker() as worker:``) at the beginning of a run:
    the interpreter start-up and the matplotlib/pandas imports then happen in
    the other process while this one computes. The worker is a fresh
    interpreter (``subprocess`` with two pipes carrying pickled jobs and
    images, as multiprocessing's ``spawn`` would, never ``fork``: the parent
    holds DuckDB and OpenMP threads), and unlike ``spawn`` it does not
    re-import the caller's ``__main__``, so scripts need no
    ``if __name__ == "__main__"`` guard.

    The work is one queue of jobs. :meth:`prefetch` appends the figures known
    early, and a feeder thread hands the worker one job at a time from the
    front. :meth:`draw_all` (what :func:`~custseg.report.write_report` calls
    through ``renderer=worker``) takes the figures already drawn for identical
    jobs (same pickled bytes: same function, data, language and format),
    drops queued jobs it does not want (other data or language), appends its
    missing ones, and draws from the back of the queue in this process while
    the worker goes on from the front; so both cores draw, and neither waits
    while a job is left. When only the worker's current figure is missing, it
    is waited for, unless the worker has not finished starting up: then it is
    drawn here and the late answer is ignored.

    It never makes a report hang or fail: when the worker dies, raises, or
    does not answer a figure within ``timeout`` seconds, it is stopped and the
    remaining figures are drawn in this process; a figure that raises in the
    worker is drawn here, once, where its error surfaces with its real
    traceback. Leaving the ``with`` block, or Ctrl-C while :meth:`draw_all`
    runs, ends it; the worker ignores SIGINT and ends by itself when this
    process closes the pipe or dies.

    Parameters
    ----------
    timeout : float, default 60.0
        Seconds to wait for one figure (its start-up included for the first)
        before giving up on the worker.

    Attributes
    ----------
    drawn : int
        Figures the worker has drawn (over its life).
    ready : bool
        The worker has said it finished starting up (imports and a first
        drawing), as seen by :meth:`wait_ready` or a figure's answer.
    failure : str or None
        Why the worker was given up, if it was.
    prefetch_hits : int
        Figures the worker drew ahead (:meth:`prefetch`) that a report then used.
    """

    def __init__(self, *, timeout: float = 60.0) -> None:
        if not timeout > 0:
            raise ParameterError(f"timeout must be > 0, got {timeout!r}", fix="pass seconds > 0")
        self.timeout = float(timeout)
        self.drawn = 0
        self.failure: str | None = None
        self.ready = False
        self.prefetch_hits = 0
        self._process: Any = None
        self._conn: Any = None
        self._send_conn: Any = None
        self._finalizer: Any = None
        self._next_key = 0
        self._pipe = threading.Lock()  # one exchange at a time on the pipes
        self._stop = threading.Event()
        # The shared work, guarded by _lock: jobs not sent yet (key: pickled bytes),
        # the one being drawn by the worker, its answers not taken yet, the jobs it
        # failed to draw (drawn here), and which keys came from prefetch().
        self._lock = threading.Condition()
        self._queue: deque[tuple[bytes, FigureJob]] = deque()
        self._in_flight: tuple[bytes, FigureJob, threading.Event] | None = None
        self._results: dict[bytes, DrawnFigure] = {}
        self._failed: dict[bytes, FigureJob] = {}
        self._ahead: set[bytes] = set()
        self._feeder: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------

    def start(self) -> FigureWorker:
        """Start the worker process (no-op when started already); returns self."""
        if self._process is not None or self.failure is not None:
            return self
        import json
        import os
        import subprocess
        import sys
        import weakref
        from multiprocessing.connection import Connection

        jobs_r, jobs_w = os.pipe()
        replies_r, replies_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, json.dumps(sys.path)]
                + [str(jobs_r), str(replies_w)],
                pass_fds=(jobs_r, replies_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except Exception as exc:  # no process: everything is drawn here
            os.close(jobs_w)
            os.close(replies_r)
            self.failure = f"could not start: {exc}"
            return self
        finally:
            os.close(jobs_r)
            os.close(replies_w)
        self._process = process
        self._send_conn = Connection(jobs_w, readable=False)
        self._conn = Connection(replies_r, writable=False)
        self._finalizer = weakref.finalize(
            self, _stop_process, process, self._send_conn, self._conn
        )
        return self

    def __enter__(self) -> FigureWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def usable(self) -> bool:
        """Started, alive and not given up (a worker found dead is given up)."""
        if self._process is None or self._conn is None or self.failure is not None:
            return False
        code = self._process.poll()
        if code is not None:
            self._give_up(f"died (exit code {code})")
            return False
        return True

    def close(self) -> None:
        """Stop the worker (asks, then terminates, then kills) and free its pipes."""
        self._stop.set()
        with self._lock:
            self._queue.clear()
            feeder = self._feeder
        if feeder is not None and feeder is not threading.current_thread():
            feeder.join(0.5)  # it checks _stop at least every 0.1 s
        if self._finalizer is not None:
            self._finalizer()
        self._conn = self._send_conn = None

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the worker has started up (at most ``timeout`` seconds); True if it has.

        Never needed (figures sent earlier simply wait in the pipe); useful
        to measure, or to let the start-up finish before timing something.
        """
        from multiprocessing.connection import wait

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self.ready and self.usable:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not self._pipe.acquire(timeout=min(remaining, 0.1)):
                continue  # a figure is being exchanged: its answer says ready too
            try:
                if self.ready or not wait([self._conn], timeout=min(remaining, 0.1)):
                    continue
                reply = self._conn.recv()
            except Exception as exc:
                self._give_up(f"died: {exc}")
                return False
            finally:
                self._pipe.release()
            if reply[0] == "ready":
                self.ready = True
            elif reply[0] == "broken":
                self._give_up(f"could not start: {reply[2]}")
        return self.ready

    def _give_up(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            logger.warning("figure worker given up (%s): drawing here instead", reason)
        self._stop.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    # -- one figure ------------------------------------------------------------

    def _exchange(self, payload: bytes, *, stop: Any = None, cancel: Any = None) -> tuple[str, Any]:
        """Send one pickled job and wait for its answer; the caller holds ``_pipe``.

        Returns (``"ok"``, DrawnFigure), (``"error"``, traceback) when the
        figure raised in the worker, (``"gone"``, None) when the worker was
        given up, or (``"cancelled"``, None).
        """
        from multiprocessing.connection import wait

        if not self.usable:
            return _GONE, None
        conn, process = self._conn, self._process
        key, self._next_key = self._next_key, self._next_key + 1
        try:
            self._send_conn.send_bytes(_HEADER.pack(key) + payload)
        except Exception as exc:  # a closed pipe
            self._give_up(f"pipe closed: {exc}")
            return _GONE, None
        deadline = time.monotonic() + self.timeout
        while True:
            if cancel is not None and cancel.is_set():
                return _CANCELLED, None
            if stop is not None and stop.is_set():
                self._give_up("interrupted")
                return _GONE, None
            if self._stop.is_set():  # closed, or given up
                return _GONE, None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._give_up(f"no answer within {self.timeout:g} s")
                return _GONE, None
            try:
                reply = conn.recv() if wait([conn], timeout=min(remaining, 0.1)) else None
            except Exception as exc:  # EOF: it died while answering (or was closed)
                self._give_up(f"died: {exc}")
                return _GONE, None
            if reply is None:
                if process.poll() is not None:
                    self._give_up(f"died (exit code {process.returncode})")
                    return _GONE, None
                continue
            if reply[0] == "ready":
                self.ready = True
                continue
            if reply[0] == "broken":
                self._give_up(f"could not start: {reply[2]}")
                return _GONE, None
            if reply[1] is not None and reply[1] != key:
                continue  # the late answer to a figure drawn here meanwhile
            self.ready = True
            if reply[0] == "ok":
                self.drawn += 1
                return _OK, DrawnFigure(reply[2], reply[3], reply[4], remote=True)
            return _ERROR, reply[2]

    def draw(self, job: FigureJob, *, stop: Any = None, cancel: Any = None) -> DrawnFigure | None:
        """Draw ``job`` in the worker now and wait for it; None when the worker cannot.

        A None means: draw it here (the worker was given up, or the figure
        raised there, or the job cannot be pickled).

        Parameters
        ----------
        job : FigureJob
        stop : threading.Event, optional
            Set by the caller to stop waiting and end the worker.
        cancel : threading.Event, optional
            Set by the caller to stop waiting for this figure only (it was
            drawn elsewhere); the late answer is ignored.
        """
        if not self.usable:
            return None
        try:
            payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return None
        with self._pipe:
            status, value = self._exchange(payload, stop=stop, cancel=cancel)
        return value if status == _OK else None

    # -- the shared queue --------------------------------------------------------

    @staticmethod
    def _keyed(jobs: Sequence[FigureJob]) -> tuple[dict[bytes, FigureJob], list[FigureJob]]:
        """``jobs`` by their pickled bytes, and those that cannot be pickled."""
        keyed: dict[bytes, FigureJob] = {}
        unpicklable: list[FigureJob] = []
        for job in jobs:
            try:
                keyed[pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)] = job
            except Exception:
                unpicklable.append(job)
        return keyed, unpicklable

    def _ensure_feeder(self) -> None:
        """Start the feeder thread if jobs wait and none runs; the caller holds ``_lock``."""
        if self._feeder is None and self._queue and self.usable:
            self._feeder = threading.Thread(
                target=self._feed, name="custseg-figure-feeder", daemon=True
            )
            self._feeder.start()

    def _feed(self) -> None:
        """Feeder thread: hand the worker the queue's front job, one at a time."""
        while True:
            with self._lock:
                if not self._queue or self._stop.is_set() or not self.usable:
                    self._feeder = None
                    self._lock.notify_all()
                    return
                key, job = self._queue.popleft()
                cancel = threading.Event()
                self._in_flight = (key, job, cancel)
            try:
                with self._pipe:
                    status, value = self._exchange(key, cancel=cancel)
            except BaseException as exc:  # pragma: no cover  (a bug: never lose the job)
                self._give_up(f"feeder failed: {exc!r}")
                status, value = _GONE, None
            with self._lock:
                self._in_flight = None
                if status == _OK:
                    self._results[key] = value
                elif status == _ERROR:
                    self._failed[key] = job  # drawn here, where the error surfaces
                elif status == _GONE and not cancel.is_set():
                    self._queue.appendleft((key, job))
                self._lock.notify_all()

    def prefetch(self, jobs: Sequence[FigureJob]) -> None:
        """Queue ``jobs`` for the worker now, while the caller goes on computing.

        A feeder thread sends them one at a time, from the front of the queue,
        and keeps the images; :meth:`draw_all` later takes those of identical
        jobs instead of drawing them again, and takes over the jobs not sent
        yet. So the figures of the data sections can be drawn while the models
        are fitted, by a core that would otherwise wait. Jobs already queued,
        being drawn or drawn are not queued twice; jobs that cannot be pickled
        are left to :meth:`draw_all`.
        """
        if not jobs or not self.usable:
            return
        keyed, _ = self._keyed(jobs)
        with self._lock:
            known = {k for k, _ in self._queue} | self._results.keys() | self._failed.keys()
            if self._in_flight is not None:
                known.add(self._in_flight[0])
            for key, job in keyed.items():
                if key not in known:
                    self._queue.append((key, job))
                    self._ahead.add(key)
            self._ensure_feeder()

    def draw_all(self, jobs: Sequence[FigureJob]) -> dict[str, DrawnFigure]:
        """Draw ``jobs`` shared with the worker; the drawn figures by job id.

        Figures the worker drew for identical jobs are taken; queued jobs that
        are not in ``jobs`` are dropped; the missing ones are appended to the
        queue. This thread then draws from the back of the queue while the
        feeder feeds the worker from the front; when the queue is empty it
        waits for the worker's current figure, or draws it here if the worker
        has not started up yet. With no usable worker, everything left is
        drawn here. An exception here (Ctrl-C, or a figure's own error) ends
        the worker.

        Parameters
        ----------
        jobs : sequence of FigureJob

        Returns
        -------
        dict
            :class:`DrawnFigure` by job id, the same bytes as :func:`draw_job`'s.
        """
        wanted, local = self._keyed(jobs)
        drawn: dict[str, DrawnFigure] = {}
        with self._lock:
            self._queue = deque(item for item in self._queue if item[0] in wanted)
            self._failed = {k: j for k, j in self._failed.items() if k in wanted}
            self._ahead &= wanted.keys()
            self._take(wanted, drawn)
            self._results.clear()  # drawn for other data or another language
            waiting = {k for k, _ in self._queue} | self._failed.keys()
            if self._in_flight is not None:
                waiting.add(self._in_flight[0])
            for key, job in wanted.items():
                if job.id not in drawn and key not in waiting:
                    self._queue.append((key, job))
            self._ensure_feeder()
        try:
            while True:
                job = self._next_here(wanted, drawn, local)
                if job is None:
                    return drawn
                drawn[job.id] = draw_job(job)
        except BaseException:  # Ctrl-C or an error in a figure: the worker is ended
            self._give_up("interrupted")
            with self._lock:
                self._queue.clear()
            raise

    def _take(self, wanted: dict[bytes, FigureJob], drawn: dict[str, DrawnFigure]) -> None:
        """Move the worker's answers for ``wanted`` jobs into ``drawn``; the caller holds _lock."""
        for key in [k for k in self._results if k in wanted]:
            result = self._results.pop(key)
            drawn.setdefault(wanted[key].id, result)
            if key in self._ahead:
                self._ahead.discard(key)
                self.prefetch_hits += 1

    def _next_here(
        self,
        wanted: dict[bytes, FigureJob],
        drawn: dict[str, DrawnFigure],
        local: list[FigureJob],
    ) -> FigureJob | None:
        """The next job to draw in this process, None when all of ``wanted`` are drawn."""
        since = None  # when this thread began waiting for the worker's current figure
        with self._lock:
            while True:
                self._take(wanted, drawn)
                if local:
                    return local.pop()
                if self._failed:
                    return self._failed.popitem()[1]
                if self._queue:
                    return self._queue.pop()[1]
                flight = self._in_flight
                if flight is None or flight[0] not in wanted or flight[1].id in drawn:
                    return None
                if since is None:
                    since = time.monotonic()
                elif time.monotonic() - since > self.timeout:
                    # e.g. still sending a large job to a worker that reads nothing
                    self._give_up(f"no answer within {self.timeout:g} s")
                if not self.ready or not self.usable:
                    # still starting up (or given up): draw it here, ignore its answer
                    flight[2].set()
                    return flight[1]
                self._lock.wait(0.1)
