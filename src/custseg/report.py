"""The self-contained HTML report (Jinja2, autoescaped).

A report is a :class:`ReportContext`: a list of :class:`Section` objects,
each a list of blocks (:class:`Paragraph`, :class:`Heading`,
:class:`BulletList`, :class:`FigureEntry`, :class:`TableEntry`,
:class:`CardGrid`). :func:`build_report` renders them, always in the order of
:data:`SECTION_ORDER` (data and anomalies, preprocessing, segmentation
methods, choosing hyper-parameters, segments, comparison of methods,
appendix); a section that is absent or empty is not rendered at all.
Figures and tables are numbered in reading order.

The output needs nothing but itself: CSS is inline, figures are base64
``data:`` URIs (PNG or SVG), there is no script, and a Content-Security-Policy
forbids the browser to fetch anything else. Every text goes through Jinja2's
autoescaping, so descriptions, countries or ids taken from the data cannot
inject markup.

:func:`write_report` is what the pipeline and ``custseg report DIR`` call: it
builds every section from a run's summary (see :mod:`custseg.report_builder`)
and writes ``report.html`` and ``figures/<id>.png|svg``. The section builders
kept here, :func:`data_section`, :func:`preprocessing_section` and
:func:`appendix_section`, work on the dataclasses of
:mod:`custseg.distributions`; figures are drawn with :mod:`custseg.plots`
(imported only when a figure is drawn) through a :class:`FigureTimer`, which
records the wall-clock and CPU time of each group of figures for the appendix.
Figures as jobs, and the second process that draws a share of them
(:class:`FigureWorker`), are in :mod:`custseg.figure_worker`; their names are
importable from here too.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from custseg import __version__
from custseg.errors import ColumnError, ParameterError
from custseg.figure_worker import (
    DrawnFigure,
    FigureFormat,
    FigureJob,
    FigureWorker,
    PlotCall,
    _encode,
    draw_job,
    draw_jobs,
)
from custseg.i18n import Translator
from custseg.schema import AMOUNT, QUANTITY, UNIT_PRICE

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from custseg.distributions import FeatureHistograms, LineDistributions

__all__ = [
    "SECTION_ORDER",
    "BulletList",
    "Card",
    "CardGrid",
    "DrawnFigure",
    "FigureBook",
    "FigureJob",
    "FigureTimer",
    "FigureWorker",
    "PlotCall",
    "RawLog",
    "FigureEntry",
    "Heading",
    "Paragraph",
    "ReportContext",
    "Section",
    "TableEntry",
    "appendix_section",
    "build_report",
    "data_section",
    "draw_job",
    "library_versions",
    "preprocessing_section",
    "render_figure",
    "write_report",
]

SECTION_ORDER = (
    "data",
    "preprocessing",
    "methods",
    "hyperparameters",
    "segments",
    "comparison",
    "appendix",
)
"""Section keys in the order the report shows them (titles: ``section.<key>.title``)."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _check_id(kind: str, value: str) -> None:
    if not isinstance(value, str) or not _ID.match(value):
        raise ParameterError(
            f"{kind} id {value!r} is not a lowercase slug",
            fix="use letters, digits, '_' and '-' only, e.g. 'data_monthly'",
        )


# ---------------------------------------------------------------------------
# blocks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text (escaped when rendered)."""

    text: str
    kind: str = field(default="paragraph", init=False)


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: str
    kind: str = field(default="heading", init=False)


@dataclass(frozen=True)
class BulletList:
    """A bulleted list of plain-text items."""

    items: tuple[str, ...]
    kind: str = field(default="list", init=False)


@dataclass(frozen=True)
class FigureEntry:
    """A rendered figure, its title and the one-line caption saying what to look at.

    Parameters
    ----------
    id : str
        Slug, also the file stem in ``DIR/figures/`` (``data_monthly``).
    title : str
        Short title.
    caption : str
        One line: what the reader should look at.
    image : bytes or str
        PNG bytes, or SVG text.
    format : {"png", "svg"}
        Format of ``image``.
    """

    id: str
    title: str
    caption: str
    image: bytes | str
    format: FigureFormat = "png"
    kind: str = field(default="figure", init=False)

    def __post_init__(self) -> None:
        _check_id("figure", self.id)
        if self.format not in ("png", "svg"):
            raise ParameterError(f"unknown figure format {self.format!r}", fix="use 'png' or 'svg'")

    @property
    def filename(self) -> str:
        """``<id>.png`` or ``<id>.svg``."""
        return f"{self.id}.{self.format}"

    @property
    def payload(self) -> bytes:
        """The file content to write to ``DIR/figures/<filename>``."""
        return self.image if isinstance(self.image, bytes) else self.image.encode("utf-8")

    @property
    def data_uri(self) -> str:
        """``data:`` URI embedding the image."""
        mime = "image/png" if self.format == "png" else "image/svg+xml"
        return f"data:{mime};base64,{base64.b64encode(self.payload).decode('ascii')}"

    @property
    def size(self) -> tuple[int, int] | None:
        """Pixel (width, height) of a PNG, read from its header; None for SVG."""
        data = self.payload
        if self.format != "png" or len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)


@dataclass(frozen=True)
class TableEntry:
    """A readable table of already formatted strings.

    Parameters
    ----------
    id : str
        Slug used as HTML anchor.
    title : str
        Shown above the table with its number.
    headers : sequence of str
        Column headers.
    rows : sequence of sequence of str
        Cells, already formatted (numbers with :class:`Translator`).
    numeric : sequence of bool, optional
        Columns to right-align (numbers); default: none.
    caption : str, optional
        A note shown under the table.
    shades : sequence of sequence of float or None, optional
        One value in [0, 1] (or None) per cell: the cell's background is
        shaded in proportion (a heat-map table); None leaves a cell plain.
    """

    id: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] | None = None
    caption: str | None = None
    shades: tuple[tuple[float | None, ...], ...] | None = None
    kind: str = field(default="table", init=False)

    def __post_init__(self) -> None:
        _check_id("table", self.id)
        object.__setattr__(self, "headers", tuple(str(h) for h in self.headers))
        object.__setattr__(self, "rows", tuple(tuple(str(c) for c in r) for r in self.rows))
        width = len(self.headers)
        for row in self.rows:
            if len(row) != width:
                raise ParameterError(
                    f"table {self.id!r} has a row of {len(row)} cells for {width} headers",
                    fix="give every row one cell per header",
                )
        numeric = tuple(bool(n) for n in self.numeric) if self.numeric else (False,) * width
        if len(numeric) != width:
            raise ParameterError(
                f"table {self.id!r}: numeric has {len(numeric)} flags for {width} columns",
                fix="give one flag per column",
            )
        object.__setattr__(self, "numeric", numeric)
        if self.shades is not None:
            shades = tuple(
                tuple(None if v is None else min(max(float(v), 0.0), 1.0) for v in row)
                for row in self.shades
            )
            if [len(r) for r in shades] != [len(r) for r in self.rows]:
                raise ParameterError(
                    f"table {self.id!r}: shades do not have the shape of the rows",
                    fix="give one shade (or None) per cell",
                )
            object.__setattr__(self, "shades", shades)


@dataclass(frozen=True)
class Card:
    """One segment card: a coloured title, a line of key figures, then labelled texts.

    Parameters
    ----------
    title : str
        Segment name.
    facts : str
        One line of key figures (already formatted).
    items : sequence of (str, str)
        (label, text) pairs, e.g. ("Profile", "..."), ("Action", "...").
    color : str, optional
        ``#rrggbb`` colour of the segment in the figures (a band on the card).
    """

    title: str
    facts: str
    items: tuple[tuple[str, str], ...]
    color: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple((str(a), str(b)) for a, b in self.items))
        if self.color is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", self.color):
            raise ParameterError(
                f"card colour {self.color!r} is not #rrggbb",
                fix="pass a hex colour such as #0173b2",
            )


@dataclass(frozen=True)
class CardGrid:
    """A grid of :class:`Card` (segments with their interpretation and action)."""

    cards: tuple[Card, ...]
    kind: str = field(default="cards", init=False)


Block = Paragraph | Heading | BulletList | FigureEntry | TableEntry | CardGrid


@dataclass
class Section:
    """One section of the report.

    Parameters
    ----------
    key : str
        One of :data:`SECTION_ORDER`.
    blocks : list of blocks
        Content, in order. A section without blocks is not rendered.
    title : str, optional
        Defaults to the catalogue entry ``section.<key>.title``.
    timings : dict of str to float
        Wall-clock seconds spent per step (keys: ``timing.<key>`` catalogue
        entries or free labels), for the appendix.
    cpu_timings : dict of str to float
        CPU seconds of this process for the same steps.
    """

    key: str
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)

    @property
    def figures(self) -> list[FigureEntry]:
        """The figures of this section, in order."""
        return [b for b in self.blocks if isinstance(b, FigureEntry)]


@dataclass
class ReportContext:
    """Everything :func:`build_report` renders.

    Parameters
    ----------
    sections : list of Section
        In any order; rendered in :data:`SECTION_ORDER`.
    dataset : str, optional
        Name of the input (file name or dataset name) for the subtitle.
    first_date, last_date : date or ISO str, optional
        Period covered, for the subtitle.
    generated_on : date, optional
        Shown in the header (never taken from the clock here).
    version : str
        custseg version shown in the header.
    title : str, optional
        Defaults to ``report.title``.
    """

    sections: list[Section]
    dataset: str | None = None
    first_date: date | str | None = None
    last_date: date | str | None = None
    generated_on: date | str | None = None
    version: str = __version__
    title: str | None = None

    @property
    def figures(self) -> list[FigureEntry]:
        """Every figure, in report order (what ``DIR/figures/`` should hold)."""
        return [f for s in _ordered(self.sections) for f in s.figures]


@dataclass(frozen=True)
class RawLog:
    """Headline figures of the transaction log before cleaning (from the audit).

    When given to :func:`data_section`, the key-figure table compares the raw
    log with the cleaned lines the figures describe.

    Parameters
    ----------
    lines, orders, customers : int
        Lines, distinct invoices (cancellations included), identified customers.
    revenue : float
        Net sum of line totals.
    first_date, last_date : str or None
        ISO dates of the first and last line.
    median_line, median_order : float or None
        Median line total and order total (all lines, negative ones included).
    """

    lines: int
    orders: int | None
    customers: int
    revenue: float
    first_date: str | None = None
    last_date: str | None = None
    median_line: float | None = None
    median_order: float | None = None


def _ordered(sections: Sequence[Section]) -> list[Section]:
    seen: set[str] = set()
    for section in sections:
        if section.key not in SECTION_ORDER:
            raise ParameterError(
                f"unknown report section {section.key!r}",
                fix=f"use one of {', '.join(SECTION_ORDER)}",
            )
        if section.key in seen:
            raise ParameterError(
                f"report section {section.key!r} given twice", fix="merge its blocks"
            )
        seen.add(section.key)
    return sorted((s for s in sections if s.blocks), key=lambda s: SECTION_ORDER.index(s.key))


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------


@functools.cache
def _environment() -> jinja2.Environment:
    """The Jinja2 environment, built once (it keeps the compiled template)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("custseg", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_SHADE_RGB = (1, 115, 178)  # the report's accent colour


def _shade_style(shade: float | None) -> str | None:
    """Inline CSS of a shaded cell: accent colour at ``shade`` opacity, readable text."""
    if shade is None:
        return None
    r, g, b = _SHADE_RGB
    text = "color: #fff; " if shade > 0.55 else ""
    return f"{text}background-color: rgba({r}, {g}, {b}, {0.08 + 0.87 * shade:.2f})"


def build_report(context: ReportContext, tr: Translator) -> str:
    """Render the report as one self-contained HTML string.

    Parameters
    ----------
    context : ReportContext
        Sections and header information.
    tr : Translator
        Language of the frame (title, section titles, figure/table labels).

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    ParameterError
        A section key is unknown or repeated, or two figures/tables share an id.
    """
    sections = _ordered(context.sections)
    ids = [b.id for s in sections for b in s.blocks if isinstance(b, FigureEntry | TableEntry)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ParameterError(
            f"figure or table ids used twice: {', '.join(repeated)}",
            fix="give every figure and table its own id (it names its file and anchor)",
        )
    figure_no = table_no = 0
    rendered = []
    for index, section in enumerate(sections, start=1):
        blocks: list[dict[str, Any]] = []
        for block in section.blocks:
            item: dict[str, Any] = {"kind": block.kind}
            if isinstance(block, FigureEntry):
                figure_no += 1
                label = tr.t("report.figure", n=figure_no)
                size = block.size
                item.update(
                    id=block.id,
                    heading=tr.t("report.figure_heading", label=label, title=block.title),
                    caption=block.caption,
                    src=block.data_uri,
                    alt=tr.t("report.figure_alt", title=block.title),
                    width=size[0] if size else None,
                    height=size[1] if size else None,
                )
            elif isinstance(block, TableEntry):
                table_no += 1
                label = tr.t("report.table", n=table_no)
                item.update(
                    id=block.id,
                    heading=tr.t("report.figure_heading", label=label, title=block.title),
                    headers=list(zip(block.headers, block.numeric, strict=True)),
                    rows=[
                        [
                            (cell, numeric, _shade_style(shade))
                            for cell, numeric, shade in zip(
                                r, block.numeric, shades or (None,) * len(r), strict=True
                            )
                        ]
                        for r, shades in zip(
                            block.rows, block.shades or (None,) * len(block.rows), strict=True
                        )
                    ],
                    caption=block.caption,
                )
            elif isinstance(block, BulletList):
                item["items"] = list(block.items)
            elif isinstance(block, CardGrid):
                item["cards"] = [
                    {"title": c.title, "facts": c.facts, "items": c.items, "color": c.color}
                    for c in block.cards
                ]
            else:
                item["text"] = block.text
            blocks.append(item)
        rendered.append(
            {
                "anchor": f"section-{section.key}",
                "number": index,
                "title": section.title or tr.t(f"section.{section.key}.title"),
                "blocks": blocks,
            }
        )
    subtitle = None
    if context.dataset and context.first_date and context.last_date:
        subtitle = tr.t(
            "report.subtitle",
            dataset=context.dataset,
            start=tr.date(context.first_date),
            end=tr.date(context.last_date),
        )
    elif context.dataset:
        subtitle = context.dataset
    generated = None
    if context.generated_on is not None:
        generated = tr.t(
            "report.generated", date=tr.date(context.generated_on), version=context.version
        )
    template = _environment().get_template("report.html")
    return template.render(
        lang=tr.html_lang,
        title=context.title or tr.t("report.title"),
        subtitle=subtitle,
        generated=generated,
        contents=tr.t("report.contents"),
        sections=rendered,
    )


def render_figure(
    fig: Figure, *, id: str, title: str, caption: str, fmt: FigureFormat = "png"
) -> FigureEntry:
    """Render a matplotlib figure into a :class:`FigureEntry` (and free it).

    Parameters
    ----------
    fig : Figure
        Figure from :mod:`custseg.plots`.
    id, title, caption : str
        See :class:`FigureEntry`.
    fmt : {"png", "svg"}, default "png"
        Output format.

    Returns
    -------
    FigureEntry
    """
    image = _encode(fig, fmt)
    return FigureEntry(id=id, title=title, caption=caption, image=image, format=fmt)


# ---------------------------------------------------------------------------
# section builders
# ---------------------------------------------------------------------------


class FigureBook:
    """The figures of a report, collected while its sections are built, drawn afterwards.

    :class:`FigureTimer` objects given a book return placeholder entries;
    :meth:`draw` then draws every figure (serially, or shared with a
    :class:`FigureWorker`) and puts the images in place, in the same order
    and with the same bytes either way.
    """

    def __init__(self) -> None:
        self.jobs: list[FigureJob] = []
        self._groups: list[tuple[Section, str, list[str], float, float]] = []
        self.drawn: dict[str, DrawnFigure] = {}

    def add(self, job: FigureJob) -> None:
        """Queue one figure."""
        self.jobs.append(job)

    def group(self, section: Section, timing: str, ids: Sequence[str]) -> None:
        """Record that ``ids`` are timed under ``section.timings[timing]``."""
        self._groups.append(
            (
                section,
                timing,
                list(ids),
                section.timings.get(timing, 0.0),
                section.cpu_timings.get(timing, 0.0),
            )
        )

    def draw(self, sections: Sequence[Section], renderer: FigureWorker | None = None) -> None:
        """Draw every queued figure and fill the placeholders of ``sections``.

        A group's timing becomes the sum, over its figures, of the wall-clock
        and CPU seconds of drawing each, in whichever process drew it.
        """
        self.drawn.update(draw_jobs([j for j in self.jobs if j.id not in self.drawn], renderer))
        for section in sections:
            section.blocks = [
                replace(b, image=self.drawn[b.id].image)
                if isinstance(b, FigureEntry) and b.id in self.drawn
                else b
                for b in section.blocks
            ]
        for section, timing, ids, wall, cpu in self._groups:
            done = [self.drawn[i] for i in ids if i in self.drawn]
            section.timings[timing] = wall + sum(d.seconds for d in done)
            section.cpu_timings[timing] = cpu + sum(d.cpu_seconds for d in done)


class FigureTimer:
    """Draws figures into :class:`FigureEntry` objects and adds up the time spent.

    Parameters
    ----------
    book : FigureBook, optional
        When given, figures given as :class:`PlotCall` are not drawn now: the
        entry holds an empty image until :meth:`FigureBook.draw` fills it.

    Attributes
    ----------
    seconds : float
        Wall-clock seconds spent drawing and encoding.
    cpu_seconds : float
        CPU seconds of this process for the same work (a fairer measure on a
        busy machine).
    """

    def __init__(self, book: FigureBook | None = None) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.book = book
        self._deferred: list[str] = []

    def figure(
        self,
        draw: Callable[[], Figure] | PlotCall,
        *,
        id: str,
        title: str,
        caption: str,
        fmt: FigureFormat,
    ) -> FigureEntry:
        """Call ``draw``, render its figure and return the entry (or defer it to the book)."""
        if self.book is not None and isinstance(draw, PlotCall):
            entry = FigureEntry(id=id, title=title, caption=caption, image=b"", format=fmt)
            self.book.add(FigureJob(id=id, draw=draw, fmt=fmt))
            self._deferred.append(id)
            return entry
        start, cpu = time.perf_counter(), time.process_time()
        entry = render_figure(draw(), id=id, title=title, caption=caption, fmt=fmt)
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu
        return entry

    def section(self, key: str, blocks: list[Block], timing: str) -> Section:
        """A :class:`Section` carrying this timer's totals under ``timing``."""
        section = Section(
            key=key,
            blocks=blocks,
            timings={timing: self.seconds},
            cpu_timings={timing: self.cpu_seconds},
        )
        if self.book is not None and self._deferred:
            self.book.group(section, timing, self._deferred)
        return section


def _findings_table(findings: pd.DataFrame, tr: Translator) -> TableEntry:
    rows = []
    for rec in findings.itertuples(index=False):
        revenue = rec.revenue
        rows.append(
            (
                tr.finding_name(rec.finding),
                tr.number(rec.rows),
                tr.percent(rec.row_share),
                tr.money(revenue, 0),
                tr.finding_description(rec.finding),
            )
        )
    return TableEntry(
        id="data_findings_table",
        title=tr.t("table.findings.title"),
        headers=(
            tr.t("col.finding"),
            tr.t("col.rows"),
            tr.t("col.row_share"),
            tr.t("col.revenue"),
            tr.t("col.meaning"),
        ),
        rows=tuple(rows),
        numeric=(False, True, True, True, False),
    )


def _country_name(country: str, dist: LineDistributions, tr: Translator) -> str:
    from custseg.distributions import OTHER, UNKNOWN

    if country == OTHER:
        return tr.t("label.other_countries", n=tr.number(dist.countries.other_countries))
    if country == UNKNOWN:
        return tr.t("label.unknown_country")
    return tr.country(country)


def data_section(
    dist: LineDistributions,
    tr: Translator,
    *,
    findings: pd.DataFrame | None = None,
    raw: RawLog | None = None,
    fmt: FigureFormat = "png",
    timer: FigureTimer | None = None,
) -> Section:
    """The "data and anomalies" section: key figures, anomalies, distributions, time, countries.

    Parameters
    ----------
    dist : LineDistributions
        From :func:`custseg.distributions.compute_line_distributions` (or
        ``LineDistributions.from_dict`` of a stored summary).
    tr : Translator
        Report language.
    findings : DataFrame, optional
        Audit findings with columns ``finding`` (catalogue key), ``rows``,
        ``row_share`` and ``revenue``, in display order; the anomaly figure
        and table are left out when None or empty.
    raw : RawLog, optional
        The log before cleaning. When given, ``dist`` is taken to describe the
        cleaned lines: the key figures show both, and the anomaly shares refer
        to the raw lines.
    fmt : {"png", "svg"}, default "png"
        Figure format.
    timer : FigureTimer, optional
        Draws the figures (one with a :class:`FigureBook` defers them); a new
        one, drawing at once, by default.

    Returns
    -------
    Section
        ``timings["data_figures"]`` holds the seconds spent drawing.
    """
    from custseg.distributions import ORDER_TOTAL

    watch = timer if timer is not None else FigureTimer()
    totals = dist.totals
    blocks: list[Block] = []
    na = tr.t("report.not_available")
    start = tr.date(totals.first_date) if totals.first_date else na
    end = tr.date(totals.last_date) if totals.last_date else na
    box = dist.boxes
    median_line = tr.money(box[AMOUNT].median) if AMOUNT in box else na
    median_order = tr.money(box[ORDER_TOTAL].median) if ORDER_TOTAL in box else na
    if raw is None:
        blocks.append(
            Paragraph(
                tr.t(
                    "data.intro",
                    lines=tr.number(totals.lines),
                    orders=tr.number(totals.orders),
                    customers=tr.number(totals.customers),
                    countries=tr.number(totals.countries),
                    start=start,
                    end=end,
                    revenue=tr.money(totals.revenue, 0),
                )
            )
        )
        key_rows = [
            (tr.t("kf.lines"), tr.number(totals.lines)),
            (tr.t("kf.orders"), tr.number(totals.orders)),
            (tr.t("kf.customers"), tr.number(totals.customers)),
            (tr.t("kf.countries"), tr.number(totals.countries)),
            (tr.t("kf.period"), tr.t("kf.period_value", start=start, end=end)),
            (tr.t("kf.revenue"), tr.money(totals.revenue, 0)),
        ]
        if AMOUNT in box:
            key_rows.append((tr.t("kf.median_line"), median_line))
        if ORDER_TOTAL in box:
            key_rows.append((tr.t("kf.median_order"), median_order))
        key_table = TableEntry(
            id="data_key_figures",
            title=tr.t("table.key_figures.title"),
            headers=(tr.t("col.indicator"), tr.t("col.value")),
            rows=tuple(key_rows),
            numeric=(False, True),
        )
        all_lines = totals.lines
    else:
        raw_start = tr.date(raw.first_date) if raw.first_date else na
        raw_end = tr.date(raw.last_date) if raw.last_date else na
        blocks.append(
            Paragraph(
                tr.t(
                    "data.intro_raw",
                    lines=tr.number(raw.lines),
                    customers=tr.number(raw.customers),
                    start=raw_start,
                    end=raw_end,
                    revenue=tr.money(raw.revenue, 0),
                    kept=tr.number(totals.lines),
                    share=tr.percent(totals.lines / raw.lines if raw.lines else None),
                    countries=tr.number(totals.countries),
                )
            )
        )
        key_table = TableEntry(
            id="data_key_figures",
            title=tr.t("table.key_figures.title"),
            headers=(tr.t("col.indicator"), tr.t("col.raw_log"), tr.t("col.clean_lines")),
            rows=(
                (tr.t("kf.lines"), tr.number(raw.lines), tr.number(totals.lines)),
                (tr.t("kf.orders"), tr.number(raw.orders), tr.number(totals.orders)),
                (tr.t("kf.customers"), tr.number(raw.customers), tr.number(totals.customers)),
                (
                    tr.t("kf.period"),
                    tr.t("kf.period_value", start=raw_start, end=raw_end),
                    tr.t("kf.period_value", start=start, end=end),
                ),
                (tr.t("kf.revenue"), tr.money(raw.revenue, 0), tr.money(totals.revenue, 0)),
                (tr.t("kf.median_line"), tr.money(raw.median_line), median_line),
                (tr.t("kf.median_order"), tr.money(raw.median_order), median_order),
            ),
            numeric=(False, True, True),
            caption=tr.t("table.key_figures.note"),
        )
        all_lines = raw.lines
    blocks.append(Heading(tr.t("data.heading.key_figures")))
    blocks.append(key_table)

    if findings is not None and len(findings):
        missing = [c for c in ("finding", "rows", "row_share", "revenue") if c not in findings]
        if missing:
            raise ColumnError(
                f"audit findings lack the columns {', '.join(missing)}",
                fix="pass the findings table of the audit (finding, rows, row_share, revenue)",
            )
        top = findings.loc[findings["rows"].idxmax()]
        blocks.append(Heading(tr.t("data.heading.anomalies")))
        blocks.append(Paragraph(tr.t("data.anomalies.intro", lines=tr.number(all_lines))))
        blocks.append(
            watch.figure(
                PlotCall("plot_findings", findings, tr=tr),
                id="data_findings",
                title=tr.t("fig.findings.title"),
                caption=tr.t(
                    "fig.findings.caption",
                    finding=tr.finding_name(top["finding"]),
                    rows=tr.number(top["rows"]),
                ),
                fmt=fmt,
            )
        )
        blocks.append(_findings_table(findings, tr))

    if dist.histograms:
        hist = dist.histograms
        blocks.append(Heading(tr.t("data.heading.distributions")))
        excluded = hist[QUANTITY].n_excluded if QUANTITY in hist else 0
        excluded_price = hist[UNIT_PRICE].n_excluded if UNIT_PRICE in hist else 0
        intro = (
            "data.distributions.intro"
            if excluded or excluded_price
            else "data.distributions.intro_positive"
        )
        blocks.append(
            Paragraph(
                tr.t(intro, excluded=tr.number(excluded), excluded_price=tr.number(excluded_price))
            )
        )
        blocks.append(
            watch.figure(
                PlotCall("plot_line_histograms", hist, tr=tr),
                id="data_histograms",
                title=tr.t("fig.line_histograms.title"),
                caption=tr.t(
                    "fig.line_histograms.caption",
                    median_line=median_line,
                    median_order=median_order,
                ),
                fmt=fmt,
            )
        )
    if dist.boxes:
        quantity = box.get(QUANTITY) or next(iter(box.values()))
        blocks.append(
            watch.figure(
                PlotCall("plot_boxplots", box, tr=tr),
                id="data_boxplots",
                title=tr.t("fig.line_boxplots.title"),
                caption=tr.t(
                    "fig.line_boxplots.caption",
                    n_high=tr.number(quantity.n_high),
                    fence=tr.number(quantity.high_fence),
                ),
                fmt=fmt,
            )
        )

    monthly = dist.monthly
    if monthly.months:
        peak = max(range(len(monthly.months)), key=lambda i: monthly.revenue[i])
        key = "fig.monthly.caption_partial" if any(monthly.partial) else "fig.monthly.caption"
        blocks.append(Heading(tr.t("data.heading.time")))
        blocks.append(
            watch.figure(
                PlotCall("plot_monthly", monthly, tr=tr),
                id="data_monthly",
                title=tr.t("fig.monthly.title"),
                caption=tr.t(
                    key,
                    peak_month=tr.month(monthly.months[peak], long=True),
                    peak_revenue=tr.money(monthly.revenue[peak], 0),
                    end=end,
                ),
                fmt=fmt,
            )
        )

    countries = dist.countries
    if countries.countries:
        blocks.append(Heading(tr.t("data.heading.countries")))
        if countries.other_countries:
            blocks.append(
                Paragraph(tr.t("data.countries.intro", n=tr.number(countries.other_countries)))
            )
        blocks.append(
            watch.figure(
                PlotCall("plot_countries", countries, tr=tr),
                id="data_countries",
                title=tr.t("fig.countries.title"),
                caption=tr.t(
                    "fig.countries.caption",
                    country=_country_name(countries.countries[0], dist, tr),
                    share=tr.percent(countries.revenue_share[0]),
                ),
                fmt=fmt,
            )
        )
        blocks.append(
            TableEntry(
                id="data_countries_table",
                title=tr.t("table.countries.title"),
                headers=(
                    tr.t("col.country"),
                    tr.t("col.revenue"),
                    tr.t("col.revenue_share"),
                    tr.t("col.customers"),
                    tr.t("col.orders"),
                ),
                rows=tuple(
                    (
                        _country_name(c, dist, tr),
                        tr.money(r, 0),
                        tr.percent(s),
                        tr.number(cu),
                        tr.number(o),
                    )
                    for c, r, s, cu, o in zip(
                        countries.countries,
                        countries.revenue,
                        countries.revenue_share,
                        countries.customers,
                        countries.orders,
                        strict=True,
                    )
                ),
                numeric=(False, True, True, True, True),
            )
        )
    return watch.section("data", blocks, "data_figures")


def _skew_summary(hists: FeatureHistograms, tr: Translator, side: str) -> str:
    parts = []
    for feat in hists.features:
        value = feat.before_skew if side == "before" else feat.after_skew
        label = tr.variable(feat.feature, unit=False)
        parts.append(f"{label} {tr.number(value, 2)}")
    return tr.t("label.list_separator").join(parts)


def preprocessing_section(
    features: FeatureHistograms,
    tr: Translator,
    *,
    method: str = "log",
    fmt: FigureFormat = "png",
    before: Sequence[Block] = (),
    extra: Sequence[Block] = (),
    timer: FigureTimer | None = None,
) -> Section:
    """The "preprocessing" section: why and how features are transformed.

    Parameters
    ----------
    features : FeatureHistograms
        From :func:`custseg.distributions.feature_histograms`.
    tr : Translator
        Report language.
    method : {"log", "yeo-johnson"}, default "log"
        ``FeatureTransformer.method`` (catalogue key ``transform.<method>``).
    fmt : {"png", "svg"}, default "png"
        Figure format.
    before : sequence of blocks
        Shown first (e.g. the cleaning rules and the feature definitions).
    extra : sequence of blocks
        Appended after the figure.
    timer : FigureTimer, optional
        Draws the figure (see :func:`data_section`).

    Returns
    -------
    Section
        ``timings["preprocessing_figures"]`` holds the seconds spent drawing.
    """
    if not tr.has(f"transform.{method}"):
        raise ParameterError(
            f"unknown transformation {method!r}",
            fix="use 'log' or 'yeo-johnson'",
        )
    watch = timer if timer is not None else FigureTimer()
    blocks: list[Block] = [
        *before,
        Paragraph(tr.t("preprocessing.intro", method=tr.t(f"transform.{method}"))),
    ]
    if features.features:
        blocks.append(
            watch.figure(
                PlotCall("plot_feature_histograms", features, tr=tr),
                id="features_before_after",
                title=tr.t("fig.features.title"),
                caption=tr.t(
                    "fig.features.caption",
                    skew_before=_skew_summary(features, tr, "before"),
                    skew_after=_skew_summary(features, tr, "after"),
                ),
                fmt=fmt,
            )
        )
    blocks.extend(extra)
    return watch.section("preprocessing", blocks, "preprocessing_figures")


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries behind a run (from package metadata)."""
    import platform

    versions = {"Python": platform.python_version(), "custseg": __version__}
    for dist_name in (
        "numpy",
        "pandas",
        "pyarrow",
        "duckdb",
        "scikit-learn",
        "fastexcel",
        "matplotlib",
        "seaborn",
        "jinja2",
    ):
        try:
            versions[dist_name] = metadata.version(dist_name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def appendix_section(
    tr: Translator,
    *,
    parameters: Mapping[str, str] | Sequence[tuple[str, str, str]] | None = None,
    versions: Mapping[str, str] | None = None,
    timings: Mapping[str, float] | None = None,
    cpu_timings: Mapping[str, float] | None = None,
    run_timings: Mapping[str, float] | None = None,
    sampling: Sequence[str] = (),
) -> Section:
    """The appendix: parameters of the run, software versions, sampling, time per step.

    Parameters
    ----------
    tr : Translator
        Report language.
    parameters : mapping of str to str, or sequence of (str, str, str), optional
        Option name -> value as given on the command line, or (parameter,
        value, command-line option) rows, already translated.
    versions : mapping of str to str, optional
        Software -> version; see :func:`library_versions`.
    timings : mapping of str to float, optional
        Report step -> wall-clock seconds, e.g. the merged
        :attr:`Section.timings`; a key with a ``timing.<key>`` catalogue entry
        is translated, others are shown as given. A total row is added.
    cpu_timings : mapping of str to float, optional
        CPU seconds for the same steps (an extra column).
    run_timings : mapping of str to float, optional
        Pipeline stage -> seconds (``summary["timings"]``), keys translated
        through ``stage.<key>`` when the catalogue has them.
    sampling : sequence of str
        Sentences saying where samples were used (a bulleted list).

    Returns
    -------
    Section
    """
    blocks: list[Block] = []
    if parameters:
        blocks.append(Heading(tr.t("appendix.parameters")))
        if isinstance(parameters, Mapping):
            headers: tuple[str, ...] = (tr.t("col.parameter"), tr.t("col.value"))
            rows: tuple[tuple[str, ...], ...] = tuple(
                (str(k), str(v)) for k, v in parameters.items()
            )
        else:
            headers = (tr.t("col.parameter"), tr.t("col.value"), tr.t("col.option"))
            rows = tuple(tuple(str(c) for c in row) for row in parameters)
        blocks.append(
            TableEntry(
                id="appendix_parameters",
                title=tr.t("table.parameters.title"),
                headers=headers,
                rows=rows,
            )
        )
    if versions:
        blocks.append(Heading(tr.t("appendix.versions")))
        blocks.append(
            TableEntry(
                id="appendix_versions",
                title=tr.t("table.versions.title"),
                headers=(tr.t("col.library"), tr.t("col.version")),
                rows=tuple((str(k), str(v)) for k, v in versions.items()),
            )
        )
    if sampling:
        blocks.append(Heading(tr.t("appendix.sampling")))
        blocks.append(BulletList(tuple(sampling)))
    if run_timings or timings:
        blocks.append(Heading(tr.t("appendix.timings")))
    if run_timings:
        stage_rows = []
        for key, value in run_timings.items():
            catalogue_key = "stage." + str(key).replace(" ", "_")
            label = tr.t(catalogue_key) if tr.has(catalogue_key) else str(key)
            stage_rows.append((label, tr.seconds(value)))
        blocks.append(
            TableEntry(
                id="appendix_run_timings",
                title=tr.t("table.run_timings.title"),
                headers=(tr.t("col.step"), tr.t("col.time")),
                rows=tuple(stage_rows),
                numeric=(False, True),
            )
        )
    if timings:
        cpu = cpu_timings or {}
        with_cpu = bool(cpu)
        rows_t = []
        for k, v in timings.items():
            label = tr.t(f"timing.{k}") if tr.has(f"timing.{k}") else str(k)
            row = [label, tr.seconds(v)]
            if with_cpu:
                row.append(tr.seconds(cpu[k]) if k in cpu else tr.t("report.not_available"))
            rows_t.append(tuple(row))
        total = [tr.t("timing.total"), tr.seconds(sum(timings.values()))]
        if with_cpu:
            total.append(tr.seconds(sum(cpu.values())))
        rows_t.append(tuple(total))
        headers_t = [tr.t("col.step"), tr.t("col.time")]
        if with_cpu:
            headers_t.append(tr.t("col.cpu_time"))
        blocks.append(
            TableEntry(
                id="appendix_timings",
                title=tr.t("table.timings.title"),
                headers=tuple(headers_t),
                rows=tuple(rows_t),
                numeric=(False, True, True) if with_cpu else (False, True),
                caption=tr.t("table.timings.note") if with_cpu else None,
            )
        )
    return Section(key="appendix", blocks=blocks)


def write_report(
    summary: Mapping[str, Any],
    out_dir: str | Path,
    *,
    lang: str = "en",
    figure_format: str = "png",
    renderer: FigureWorker | None = None,
    workers: int = 1,
) -> Path:
    """Write ``report.html`` and ``figures/<id>.png|svg`` of a run into ``out_dir``.

    Everything is drawn from ``summary`` (the dict stored as summary.json,
    as built by :func:`custseg.pipeline.run_pipeline` or loaded back from the
    JSON file): nothing is recomputed from the data.

    Parameters
    ----------
    summary : mapping
        The run's summary.
    out_dir : str or Path
        Folder to write into (created if needed).
    lang : {"en", "fr"}, default "en"
        Report language.
    figure_format : {"png", "svg"}, default "png"
        Format of the figures, in the files and embedded in the HTML.
    renderer : FigureWorker, optional
        A worker process started earlier (see :class:`FigureWorker`) that
        draws a share of the figures while this process draws the rest.
    workers : {1, 2}, default 1
        Without ``renderer``: 2 starts a worker for this report only (its
        start-up overlaps the first figures drawn here), 1 draws everything
        here. The files are the same bytes either way.

    Returns
    -------
    Path
        The written ``report.html``.

    Raises
    ------
    ParameterError
        Unknown language, figure format or number of workers.
    """
    tr = Translator(lang)
    if figure_format not in ("png", "svg"):
        raise ParameterError(
            f"unknown figure format {figure_format!r}", fix="use --figure-format png or svg"
        )
    if workers not in (1, 2):
        raise ParameterError(f"workers must be 1 or 2, got {workers!r}", fix="pass 1 or 2")
    if renderer is None and workers == 2:
        with FigureWorker() as own:
            return write_report(
                summary, out_dir, lang=lang, figure_format=figure_format, renderer=own
            )
    from custseg.report_builder import report_context

    context = report_context(
        summary,
        tr,
        fmt=figure_format,  # type: ignore[arg-type]
        renderer=renderer,
    )
    html = build_report(context, tr)
    out = Path(out_dir)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    for entry in context.figures:
        (figures / entry.filename).write_bytes(entry.payload)
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
