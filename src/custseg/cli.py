"""The ``custseg`` command: thin shells over the library.

Each command parses options, calls the library and maps domain errors
(:class:`custseg.errors.CustsegError`) to exit code 2 with one line on stderr.
Heavy libraries (pandas, scikit-learn, matplotlib) are imported inside the
commands, so ``custseg --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import traceback
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from custseg import __version__
from custseg.errors import CustsegError

app = typer.Typer(
    name="custseg",
    help="Customer segmentation from a retailer's transaction log: audit, RFM, K-means, DBSCAN, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _State:
    debug = False
    quiet = False


class Returns(StrEnum):
    drop = "drop"
    net = "net"


class KeepDrop(StrEnum):
    drop = "drop"
    keep = "keep"


class Transform(StrEnum):
    log = "log"
    yeo_johnson = "yeo-johnson"


class Lang(StrEnum):
    en = "en"
    fr = "fr"


class FigureFormat(StrEnum):
    png = "png"
    svg = "svg"


# Options shared by the commands that read a transaction file.
CustomerCol = Annotated[
    str | None, typer.Option("--customer-col", help="Column holding the customer id.")
]
DateCol = Annotated[str | None, typer.Option("--date-col", help="Column holding the invoice date.")]
InvoiceCol = Annotated[
    str | None,
    typer.Option(
        "--invoice-col",
        help="Column holding the invoice/order number (default: one order per customer and date-time).",
    ),
]
QuantityCol = Annotated[
    str | None, typer.Option("--quantity-col", help="Column holding the quantity.")
]
PriceCol = Annotated[str | None, typer.Option("--price-col", help="Column holding the unit price.")]
AmountCol = Annotated[
    str | None,
    typer.Option(
        "--amount-col", help="Column holding the line amount, when there is no unit price."
    ),
]
StockCol = Annotated[
    str | None, typer.Option("--stock-col", help="Column holding the product code.")
]
DateFormat = Annotated[
    str | None,
    typer.Option("--date-format", help="strptime format of text dates, e.g. '%d/%m/%Y %H:%M'."),
]
ReturnsOpt = Annotated[
    Returns,
    typer.Option(
        "--returns", help="Cancellations: drop them from spend, or net them against purchases."
    ),
]
NonProductOpt = Annotated[
    KeepDrop,
    typer.Option(
        "--non-product", help="Non-product codes (postage, fees, manual...): drop or keep."
    ),
]
DuplicatesOpt = Annotated[
    KeepDrop,
    typer.Option("--duplicates", help="Exact duplicate lines: drop the copies or keep them."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Snapshot date YYYY-MM-DD (default: the day after the last invoice)."
    ),
]
MemoryLimitOpt = Annotated[
    str,
    typer.Option(
        "--memory-limit",
        help="DuckDB memory limit (e.g. 8GB); beyond it work spills to $CUSTSEG_TEMP_DIR. "
        "auto: 3GB, or 10 bytes a line for inputs over about 320 million lines, at most half "
        "of this machine's memory.",
    ),
]


def _overrides(
    customer_col, date_col, invoice_col, quantity_col, price_col, amount_col, stock_col
) -> dict:
    return {
        "customer": customer_col,
        "date": date_col,
        "invoice": invoice_col,
        "quantity": quantity_col,
        "price": price_col,
        "amount": amount_col,
        "stock_code": stock_col,
    }


def _console(stderr: bool = True):
    from rich.console import Console

    return Console(stderr=stderr, quiet=_State.quiet and stderr, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custseg {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback on errors.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """custseg: customer segments from a transaction log."""
    _State.debug = debug
    _State.quiet = quiet


# What `custseg run` needs after its SQL stages, in the order it needs it.
_MODEL_MODULES = (
    "sklearn.preprocessing",
    "sklearn.cluster",
    "sklearn.metrics",
    "custseg.selection",
    "custseg.kmeans",
    "custseg.dbscan",
    "custseg.rfm",
    "custseg.profiles",
    "custseg.outliers",
    "custseg.agreement",
    "sklearn.decomposition",
)
_REPORT_MODULES = ("matplotlib.figure", "custseg.plots", "custseg.report", "custseg.report_builder")


def _import_in_background(modules: tuple[str, ...]) -> threading.Thread:
    """Import ``modules`` in a daemon thread and return it.

    The first stages of a run are DuckDB queries, which release the GIL: importing
    scikit-learn, SciPy and matplotlib meanwhile (about 2 s of start-up) takes that
    time off the run. A module that fails to import here is simply imported again,
    and its error reported, by the stage that needs it.
    """
    import importlib

    from custseg import startup

    def target() -> None:
        try:
            for name in modules:
                try:
                    importlib.import_module(name)
                except Exception:  # the stage that needs it reports the error
                    return
        finally:
            startup.resume()  # the libraries are in: collections skip them from now on

    thread = threading.Thread(target=target, name="custseg-imports", daemon=True)
    thread.start()
    return thread


@app.command()
def run(
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Transaction file (.xlsx, .csv, .parquet). Default: $CUSTSEG_DATA, the cache, else download UCI Online Retail.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("custseg-out"),
    k: Annotated[str, typer.Option("--k", help="Number of K-means clusters, or 'auto'.")] = "auto",
    k_min: Annotated[int, typer.Option("--k-min", help="Smallest k tried.")] = 2,
    k_max: Annotated[int, typer.Option("--k-max", help="Largest k tried.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (reproducible runs).")] = 0,
    features: Annotated[
        str, typer.Option("--features", help="Comma-separated features used for clustering.")
    ] = "recency,frequency,monetary",
    transform: Annotated[
        Transform, typer.Option("--transform", help="Feature transform before standardising.")
    ] = Transform.log,
    returns: ReturnsOpt = Returns.drop,
    non_product: NonProductOpt = KeepDrop.drop,
    duplicates: DuplicatesOpt = KeepDrop.drop,
    as_of: AsOfOpt = None,
    memory_limit: MemoryLimitOpt = "auto",
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.en,
    figure_format: Annotated[
        FigureFormat, typer.Option("--figure-format", help="Format of the files in figures/.")
    ] = FigureFormat.png,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip the HTML report and figures.")
    ] = False,
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    invoice_col: InvoiceCol = None,
    quantity_col: QuantityCol = None,
    price_col: PriceCol = None,
    amount_col: AmountCol = None,
    stock_col: StockCol = None,
    date_format: DateFormat = None,
) -> None:
    """Run the whole pipeline and write customers.csv, summary.json, report.html and figures/."""
    from custseg import startup

    # No cyclic collections until the libraries are imported: the background imports
    # resume them (custseg.startup); an error before then ends the command anyway.
    startup.pause()
    # The report's second drawing process starts first, before anything heavy is
    # imported here (pandas, DuckDB: about 0.6 s), so that its own start-up (an
    # interpreter, matplotlib: about 1 s of CPU) runs on the other core meanwhile.
    worker: contextlib.AbstractContextManager = contextlib.nullcontext()
    if not no_report:
        from custseg.figure_worker import FigureWorker

        worker = FigureWorker()
    with worker as renderer:
        from custseg.cleaning import CleaningPolicy
        from custseg.locate import resolve_input
        from custseg.pipeline import PipelineConfig, parse_k, run_and_write

        console = _console()
        config = PipelineConfig(
            k=parse_k(k),
            k_range=(k_min, k_max),
            seed=seed,
            features=tuple(f.strip() for f in features.split(",") if f.strip()),
            transform=transform.value,
            policy=CleaningPolicy(
                returns=returns.value, non_product=non_product.value, duplicates=duplicates.value
            ),
            as_of=as_of,
            overrides=_overrides(
                customer_col, date_col, invoice_col, quantity_col, price_col, amount_col, stock_col
            ),
            date_format=date_format,
            memory_limit=memory_limit,
            lang=lang.value,
            figure_format=figure_format.value,
            report=not no_report,
        )
        config.validate()
        _import_in_background(_MODEL_MODULES + (_REPORT_MODULES if config.report else ()))
        with console.status("locating the data") as status:
            resolved = resolve_input(input, progress=None)
            console.log(f"input: {resolved.path} ({resolved.source})")

            def step(name: str) -> None:
                status.update(f"{name}…")
                console.log(name)

            result = run_and_write(resolved.path, out, config, progress=step, renderer=renderer)
    console.print(
        f"[bold]{result.summary['cleaning']['customers']:,} customers[/bold] in "
        f"{result.summary['kmeans']['chosen_k']} K-means segments; outputs in {out}/ "
        f"({result.summary['timings']['total']:.1f} s)"
    )


@app.command("audit")
def audit_cmd(
    input: Annotated[Path, typer.Argument(help="Transaction file (.xlsx, .csv, .parquet).")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the audit as JSON instead of a table.")
    ] = False,
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    invoice_col: InvoiceCol = None,
    quantity_col: QuantityCol = None,
    price_col: PriceCol = None,
    amount_col: AmountCol = None,
    stock_col: StockCol = None,
    date_format: DateFormat = None,
) -> None:
    """Print the data-quality audit of a transaction file."""
    from rich.table import Table

    from custseg.audit import audit
    from custseg.load import load_transactions
    from custseg.output import dumps_json

    data = load_transactions(
        input,
        overrides=_overrides(
            customer_col, date_col, invoice_col, quantity_col, price_col, amount_col, stock_col
        ),
        date_format=date_format,
    )
    report = audit(data.con, data.view)
    if json_out:
        sys.stdout.write(dumps_json({"input": data.to_dict(), "audit": report.to_dict()}))
        return
    console = _console(stderr=False)
    table = Table(
        title=f"Data-quality audit of {input} ({report.rows:,} lines, revenue {report.revenue:,.2f})"
    )
    table.add_column("finding")
    table.add_column("rows", justify="right")
    table.add_column("share of rows", justify="right")
    table.add_column("revenue", justify="right")
    table.add_column("detail", justify="right")
    for row in report.findings.to_dict("records"):
        detail = row["detail"]
        table.add_row(
            row["finding"].replace("_", " "),
            f"{row['rows']:,}",
            f"{row['row_share']:.2%}",
            f"{row['revenue']:,.2f}",
            "" if detail is None or detail != detail else f"{int(detail):,}",
        )
    console.print(table)
    stats = Table(title="Descriptive statistics")
    stats.add_column("variable")
    for col in report.stats.columns:
        stats.add_column(col, justify="right")
    for name, row in report.stats.iterrows():
        stats.add_row(name, *[f"{v:,.2f}" if v == v else "" for v in row])
    console.print(stats)
    for key, rule in report.rules.items():
        console.print(f"[dim]{key}: {rule}[/dim]")


@app.command("features")
def features_cmd(
    input: Annotated[Path, typer.Argument(help="Transaction file (.xlsx, .csv, .parquet).")],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Parquet file to write the per-customer features to."),
    ],
    returns: ReturnsOpt = Returns.drop,
    non_product: NonProductOpt = KeepDrop.drop,
    duplicates: DuplicatesOpt = KeepDrop.drop,
    as_of: AsOfOpt = None,
    memory_limit: MemoryLimitOpt = "auto",
    customer_col: CustomerCol = None,
    date_col: DateCol = None,
    invoice_col: InvoiceCol = None,
    quantity_col: QuantityCol = None,
    price_col: PriceCol = None,
    amount_col: AmountCol = None,
    stock_col: StockCol = None,
    date_format: DateFormat = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Comma-separated feature columns to write (default: all). Only their "
            "aggregates are computed: e.g. recency,frequency,monetary skips the distinct "
            "products count and the return lines.",
        ),
    ] = None,
) -> None:
    """Write the per-customer feature table alone (recency, frequency, monetary, ...)."""
    from custseg.cleaning import CleaningPolicy
    from custseg.pipeline import write_features

    policy = CleaningPolicy(
        returns=returns.value, non_product=non_product.value, duplicates=duplicates.value
    )
    n = write_features(
        input,
        out,
        policy=policy,
        as_of=as_of,
        overrides=_overrides(
            customer_col, date_col, invoice_col, quantity_col, price_col, amount_col, stock_col
        ),
        date_format=date_format,
        memory_limit=memory_limit,
        columns=None if columns is None else columns.split(","),
    )
    _console().print(f"{n:,} customers written to {out}")


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="Output folder of a previous `custseg run`.")],
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.en,
    figure_format: Annotated[
        FigureFormat, typer.Option("--figure-format", help="Format of the files in figures/.")
    ] = FigureFormat.png,
) -> None:
    """Rebuild report.html and figures/ from a previous run's outputs, without recomputing."""
    from custseg import startup
    from custseg.figure_worker import FigureWorker

    # A second process draws half the figures; it starts first, before the imports
    # below (pandas...), so that its start-up (an interpreter, matplotlib) overlaps
    # them and the reading of the summary. No cyclic collections during those
    # imports (custseg.startup).
    startup.pause()
    with FigureWorker() as worker:
        import custseg.plots  # noqa: F401  (the heavy imports, before resuming)
        import custseg.report_builder  # noqa: F401
        from custseg.pipeline import rebuild_report

        startup.resume()
        seconds = rebuild_report(
            directory, lang=lang.value, figure_format=figure_format.value, renderer=worker
        )
    _console().print(f"report rebuilt in {directory}/report.html ({seconds:.1f} s)")


@app.command()
def synth(
    rows: Annotated[int, typer.Option("--rows", help="Number of transaction lines.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Write synthetic Online-Retail-like transactions (same columns and quirks) to parquet."""
    from custseg.errors import ParameterError
    from custseg.synth import synthesize

    if rows < 1:
        raise ParameterError(f"--rows must be at least 1, not {rows}", fix="pass --rows 1000000")
    stats = synthesize(rows, out, seed=seed)
    _console().print(f"{stats.rows:,} lines, {stats.customers:,} customers written to {out}")


def _error_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(line: str, code: int, debug: bool) -> int:
    """Print the traceback (with --debug only), then the one-line message; return the code."""
    if debug:
        traceback.print_exc(file=sys.stderr)
    sys.stderr.write(_error_line(line) + "\n")
    return code


def _interrupted(signum: int, debug: bool) -> int:
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    return _fail(
        f"custseg: interrupted ({name}): nothing was written, previous outputs are untouched.",
        128 + signum,
        debug,
    )


class _LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _error_line(f"custseg: {record.levelname.lower()}: {record.getMessage()}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``custseg`` command.

    Exit codes: 0 done; 2 a mistake the user can fix (a bad file, option or
    value: one line on stderr naming the file, the problem and the fix) or a
    usage error (one line too); 130 interrupted by Ctrl-C (143 by SIGTERM):
    nothing written, previous outputs untouched; 1 an internal error (one
    line). ``--debug`` adds the traceback, and library warnings; nothing else
    prints them. Notes on the input (ambiguous dates, encoding...) are logged
    as warnings on stderr, unless ``--quiet``.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in args
    quiet = "--quiet" in args or "-q" in args

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    handler.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING)
    package_log = logging.getLogger("custseg")
    level = package_log.level
    package_log.addHandler(handler)
    if debug:
        package_log.setLevel(logging.DEBUG)

    # Ctrl-C may land inside a DuckDB query, which turns it into a RuntimeError:
    # the handler records it, so that any error that follows is read as the interruption.
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.simplefilter("ignore")
            code = app(args=args, prog_name="custseg", standalone_mode=False)
        if received or code == 130:
            return _interrupted(received[0] if received else signal.SIGINT, debug=False)
        return code if isinstance(code, int) else 0
    except (KeyboardInterrupt, typer.Abort):
        return _interrupted(received[0] if received else signal.SIGINT, debug)
    except CustsegError as exc:
        if received:
            return _interrupted(received[0], debug)
        return _fail(f"custseg: error: {exc.one_line()}", exc.exit_code, debug)
    except Exception as exc:
        if received:
            return _interrupted(received[0], debug)
        if type(exc).__name__ == "OutOfMemoryException":  # duckdb's (not imported here)
            return _fail(_out_of_memory_line(exc), 2, debug)
        if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
            # A usage error found by the option parser (unknown option, value of the wrong type).
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.stdout.write(exc.format_message() + "\n")
                return 0
            ctx = getattr(exc, "ctx", None)
            hint = f" Run '{ctx.command_path} --help' for the options." if ctx is not None else ""
            message = exc.format_message().rstrip(".")
            return _fail(f"custseg: error: {message}.{hint}", exc.exit_code, debug)
        return _fail(
            f"custseg: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback, and report it)",
            1,
            debug,
        )
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        package_log.removeHandler(handler)
        package_log.setLevel(level)


def _out_of_memory_line(exc: BaseException) -> str:
    """The one line for DuckDB running out of memory under its limit: what, and the fix."""
    import os

    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "out of memory"
    detail = detail.removeprefix("Out of Memory Error: ")
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        have = f" (this machine has {ram:.0f} GB)"
    except (ValueError, OSError, AttributeError):
        have = ""
    return (
        f"custseg: error: DuckDB ran out of memory under its limit ({detail}). "
        f"Pass a larger --memory-limit{have}, and set CUSTSEG_TEMP_DIR to a disk with room "
        "for what spills."
    )


def entry() -> None:
    """The ``custseg`` console script: :func:`main`, then a quick exit.

    Every output is written, moved into place and closed by then (the figure
    worker too), so the interpreter's teardown of scikit-learn, matplotlib and
    DuckDB (about half a second) is skipped: the streams are flushed and the
    process exits with :func:`os._exit`. It also lets the command pause the
    cyclic garbage collector while it imports its libraries (:mod:`custseg.startup`).
    Tests and other callers use :func:`main`, which returns the code instead and
    leaves the collector alone.
    """
    import os

    from custseg import startup

    startup.enable()  # this process is the command: its start-up may pause the collector
    code = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
