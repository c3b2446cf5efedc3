"""The self-contained HTML report (Jinja2, autoescaped).

A report is a :class:`ReportContext`: a list of :class:`Section` objects,
each a list of blocks (:class:`Paragraph`, :class:`Heading`,
:class:`BulletList`, :class:`FigureEntry`, :class:`TableEntry`).
:func:`build_report` renders them, always in the order of
:data:`SECTION_ORDER` (data and anomalies, preprocessing, segmentation
methods, choosing hyper-parameters, segments, comparison of methods,
appendix); a section that is absent or empty is not rendered at all.
Figures and tables are numbered in reading order.

The output needs nothing but itself: CSS is inline, figures are base64
``data:`` URIs (PNG or SVG), there is no script, and a Content-Security-Policy
forbids the browser to fetch anything else. Every text goes through Jinja2's
autoescaping, so descriptions, countries or ids taken from the data cannot
inject markup.

Builders for the sections that exist so far: :func:`data_section`,
:func:`preprocessing_section` and :func:`appendix_section`. They draw their
figures with :mod:`custseg.plots` (imported only when a figure is drawn) and
record the time spent in :attr:`Section.timings`.
"""

from __future__ import annotations

import base64
import re
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal

import jinja2

from custseg import __version__
from custseg.errors import ColumnError, ParameterError
from custseg.i18n import Translator
from custseg.schema import AMOUNT, QUANTITY, UNIT_PRICE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from custseg.distributions import FeatureHistograms, LineDistributions

__all__ = [
    "SECTION_ORDER",
    "BulletList",
    "FigureEntry",
    "Heading",
    "Paragraph",
    "ReportContext",
    "Section",
    "TableEntry",
    "appendix_section",
    "build_report",
    "data_section",
    "library_versions",
    "preprocessing_section",
    "render_figure",
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

FigureFormat = Literal["png", "svg"]
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
    """

    id: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] | None = None
    caption: str | None = None
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


Block = Paragraph | Heading | BulletList | FigureEntry | TableEntry


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
        Seconds spent per step (keys: ``timing.<key>`` catalogue entries or
        free labels), for the appendix.
    """

    key: str
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

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


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("custseg", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
                    rows=[list(zip(r, block.numeric, strict=True)) for r in block.rows],
                    caption=block.caption,
                )
            elif isinstance(block, BulletList):
                item["items"] = list(block.items)
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
    from custseg import plots

    if fmt == "png":
        image: bytes | str = plots.render_png(fig)
    elif fmt == "svg":
        image = plots.render_svg(fig)
    else:
        raise ParameterError(f"unknown figure format {fmt!r}", fix="use 'png' or 'svg'")
    return FigureEntry(id=id, title=title, caption=caption, image=image, format=fmt)


# ---------------------------------------------------------------------------
# section builders
# ---------------------------------------------------------------------------


class _Stopwatch:
    """Accumulates the time spent drawing figures of one group."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def figure(
        self, draw: Callable[[], Figure], *, id: str, title: str, caption: str, fmt: FigureFormat
    ) -> FigureEntry:
        start = time.perf_counter()
        entry = render_figure(draw(), id=id, title=title, caption=caption, fmt=fmt)
        self.seconds += time.perf_counter() - start
        return entry


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
    fmt: FigureFormat = "png",
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
    fmt : {"png", "svg"}, default "png"
        Figure format.

    Returns
    -------
    Section
        ``timings["data_figures"]`` holds the seconds spent drawing.
    """
    from custseg import plots
    from custseg.distributions import ORDER_TOTAL

    watch = _Stopwatch()
    totals = dist.totals
    blocks: list[Block] = []
    start = tr.date(totals.first_date) if totals.first_date else tr.t("report.not_available")
    end = tr.date(totals.last_date) if totals.last_date else tr.t("report.not_available")
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
    box = dist.boxes
    key_rows = [
        (tr.t("kf.lines"), tr.number(totals.lines)),
        (tr.t("kf.orders"), tr.number(totals.orders)),
        (tr.t("kf.customers"), tr.number(totals.customers)),
        (tr.t("kf.countries"), tr.number(totals.countries)),
        (tr.t("kf.period"), tr.t("kf.period_value", start=start, end=end)),
        (tr.t("kf.revenue"), tr.money(totals.revenue, 0)),
    ]
    if AMOUNT in box:
        key_rows.append((tr.t("kf.median_line"), tr.money(box[AMOUNT].median)))
    if ORDER_TOTAL in box:
        key_rows.append((tr.t("kf.median_order"), tr.money(box[ORDER_TOTAL].median)))
    blocks.append(Heading(tr.t("data.heading.key_figures")))
    blocks.append(
        TableEntry(
            id="data_key_figures",
            title=tr.t("table.key_figures.title"),
            headers=(tr.t("col.indicator"), tr.t("col.value")),
            rows=tuple(key_rows),
            numeric=(False, True),
        )
    )

    if findings is not None and len(findings):
        missing = [c for c in ("finding", "rows", "row_share", "revenue") if c not in findings]
        if missing:
            raise ColumnError(
                f"audit findings lack the columns {', '.join(missing)}",
                fix="pass the findings table of the audit (finding, rows, row_share, revenue)",
            )
        top = findings.loc[findings["rows"].idxmax()]
        blocks.append(Heading(tr.t("data.heading.anomalies")))
        blocks.append(Paragraph(tr.t("data.anomalies.intro", lines=tr.number(totals.lines))))
        blocks.append(
            watch.figure(
                lambda: plots.plot_findings(findings, tr=tr),
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
        blocks.append(
            Paragraph(
                tr.t(
                    "data.distributions.intro",
                    excluded=tr.number(hist[QUANTITY].n_excluded) if QUANTITY in hist else "0",
                    excluded_price=(
                        tr.number(hist[UNIT_PRICE].n_excluded) if UNIT_PRICE in hist else "0"
                    ),
                )
            )
        )
        na = tr.t("report.not_available")
        blocks.append(
            watch.figure(
                lambda: plots.plot_line_histograms(hist, tr=tr),
                id="data_histograms",
                title=tr.t("fig.line_histograms.title"),
                caption=tr.t(
                    "fig.line_histograms.caption",
                    median_line=tr.money(box[AMOUNT].median) if AMOUNT in box else na,
                    median_order=tr.money(box[ORDER_TOTAL].median) if ORDER_TOTAL in box else na,
                ),
                fmt=fmt,
            )
        )
    if dist.boxes:
        quantity = box.get(QUANTITY) or next(iter(box.values()))
        blocks.append(
            watch.figure(
                lambda: plots.plot_boxplots(box, tr=tr),
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
                lambda: plots.plot_monthly(monthly, tr=tr),
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
                lambda: plots.plot_countries(countries, tr=tr).figure,
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
    return Section(key="data", blocks=blocks, timings={"data_figures": watch.seconds})


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
    extra: Sequence[Block] = (),
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
    extra : sequence of blocks
        Appended after the figure (e.g. the cleaning table).

    Returns
    -------
    Section
        ``timings["preprocessing_figures"]`` holds the seconds spent drawing.
    """
    from custseg import plots

    if not tr.has(f"transform.{method}"):
        raise ParameterError(
            f"unknown transformation {method!r}",
            fix="use 'log' or 'yeo-johnson'",
        )
    watch = _Stopwatch()
    blocks: list[Block] = [
        Paragraph(tr.t("preprocessing.intro", method=tr.t(f"transform.{method}")))
    ]
    if features.features:
        blocks.append(
            watch.figure(
                lambda: plots.plot_feature_histograms(features, tr=tr),
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
    return Section(
        key="preprocessing", blocks=blocks, timings={"preprocessing_figures": watch.seconds}
    )


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
        "kneed",
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
    parameters: Mapping[str, str] | None = None,
    versions: Mapping[str, str] | None = None,
    timings: Mapping[str, float] | None = None,
) -> Section:
    """The appendix: parameters of the run, software versions, time per step.

    Parameters
    ----------
    tr : Translator
        Report language.
    parameters : mapping of str to str, optional
        Option name -> value as given on the command line (not translated).
    versions : mapping of str to str, optional
        Software -> version; see :func:`library_versions`.
    timings : mapping of str to float, optional
        Step -> seconds, e.g. the merged :attr:`Section.timings`; a key with
        a ``timing.<key>`` catalogue entry is translated, others are shown
        as given. A total row is added.

    Returns
    -------
    Section
    """
    blocks: list[Block] = []
    if parameters:
        blocks.append(Heading(tr.t("appendix.parameters")))
        blocks.append(
            TableEntry(
                id="appendix_parameters",
                title=tr.t("table.parameters.title"),
                headers=(tr.t("col.parameter"), tr.t("col.value")),
                rows=tuple((str(k), str(v)) for k, v in parameters.items()),
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
    if timings:
        rows = [
            (tr.t(f"timing.{k}") if tr.has(f"timing.{k}") else str(k), tr.seconds(v))
            for k, v in timings.items()
        ]
        rows.append((tr.t("timing.total"), tr.seconds(sum(timings.values()))))
        blocks.append(Heading(tr.t("appendix.timings")))
        blocks.append(
            TableEntry(
                id="appendix_timings",
                title=tr.t("table.timings.title"),
                headers=(tr.t("col.step"), tr.t("col.time")),
                rows=tuple(rows),
                numeric=(False, True),
            )
        )
    return Section(key="appendix", blocks=blocks)
