"""The whole report, built from a run's summary (the dict stored as summary.json).

:func:`report_context` turns a summary into a :class:`~custseg.report.ReportContext`
with the seven sections of the brief: data and anomalies, preprocessing,
segmentation methods, choosing hyper-parameters, segments (with their
interpretation and recommended actions), comparison of methods, appendix.
:func:`custseg.report.write_report` renders it and writes the files.

Nothing here recomputes anything from the data: every number comes from the
summary, and figures are drawn from the summaries the pipeline stored in
``summary["report_data"]``. Every sentence is a catalogue template filled with
numbers from the summary, so the French report says in French what the
English one says (the English ``reason``/``interpretation`` texts written by
the segmentation modules are not shown; their structured numbers are).

Each part of the summary is optional: a section whose data is missing is left
out, a block whose data is missing is skipped.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.errors import ParameterError
from custseg.i18n import Translator
from custseg.report import (
    Block,
    BulletList,
    Card,
    CardGrid,
    FigureBook,
    FigureEntry,
    FigureFormat,
    FigureJob,
    FigureTimer,
    FigureWorker,
    Heading,
    Paragraph,
    PlotCall,
    RawLog,
    ReportContext,
    Section,
    TableEntry,
    appendix_section,
    data_section,
    library_versions,
    preprocessing_section,
)
from custseg.schema import FREQUENCY, MONETARY, RECENCY

__all__ = ["SegmentNames", "early_figure_jobs", "report_context", "segment_names"]

# Defaults of the segmentation modules, used when a summary does not store them
# (custseg.dbscan.tune_dbscan, custseg.outliers.flag_outliers).
DBSCAN_MAX_NOISE_SHARE = 0.10
DBSCAN_MIN_CLUSTER_SHARE = 0.01
DBSCAN_DOMINANT_SHARE = 0.80  # one cluster this large is "one dense group" (custseg.dbscan)
OUTLIER_THRESHOLD = 3.5

_CHOSEN_SHADE = 0.12  # light accent behind the retained row of a table

MAX_OUTLIER_ROWS = 30
"""Atypical customers listed in the report (all are flagged in customers.csv)."""

_RFM_FEATURES = (MONETARY, FREQUENCY, RECENCY)


def _get(mapping: Any, *keys: Any, default: Any = None) -> Any:
    """``mapping[k1][k2]...`` or ``default`` when any level is missing."""
    value = mapping
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return value


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _int_keys(mapping: Mapping[Any, Any] | None) -> dict[int, Any]:
    """JSON turns int keys into strings: undo it."""
    return {int(k): v for k, v in (mapping or {}).items()}


# ---------------------------------------------------------------------------
# segment names
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentNames:
    """Display names of the segments of each method, in the report language.

    Attributes
    ----------
    kmeans : dict of int to str
        K-means cluster -> name (``cluster.<name_key>.name``, numbered when
        several clusters share a key).
    rfm : dict of str to str
        RFM segment key -> name, in the order of the RFM rules.
    dbscan : dict of int to str
        DBSCAN cluster -> "Cluster 0", ..., noise (-1) -> "Noise".
    """

    kmeans: dict[int, str]
    rfm: dict[str, str]
    dbscan: dict[int, str]


def _kmeans_name(profile: Mapping[str, Any], tr: Translator) -> str:
    key = profile.get("name_key")
    variant = int(profile.get("name_variant") or 0)
    if key and tr.has(f"cluster.{key}.name"):
        name = tr.t(f"cluster.{key}.name")
        return tr.t("label.name_variant", name=name, n=variant) if variant else name
    # a custom naming rule without a translation: its own (English) name
    return str(profile.get("name") or tr.t("label.cluster", n=profile.get("segment")))


def _kmeans_action(profile: Mapping[str, Any], tr: Translator) -> str:
    key = profile.get("name_key")
    if key and tr.has(f"cluster.{key}.action"):
        return tr.t(f"cluster.{key}.action")
    return str(profile.get("action") or tr.t("report.not_available"))


def _rfm_name(key: str, rule_names: Mapping[str, str], tr: Translator) -> str:
    if tr.has(f"segment.{key}.name"):
        return tr.segment_name(key)
    return str(rule_names.get(key, key))


def segment_names(summary: Mapping[str, Any], tr: Translator) -> SegmentNames:
    """Names of the K-means, RFM and DBSCAN segments of a summary.

    Parameters
    ----------
    summary : mapping
        The run's summary.
    tr : Translator
        Report language.

    Returns
    -------
    SegmentNames
    """
    kmeans = {
        int(p["segment"]): _kmeans_name(p, tr)
        for p in sorted(_get(summary, "profiles", "kmeans", default=[]), key=lambda p: p["segment"])
    }
    rules = _get(summary, "rfm", "rules", default=[]) or []
    rule_names = {r["key"]: r.get("name", r["key"]) for r in rules}
    keys = list(rule_names)
    for p in _get(summary, "profiles", "rfm", default=[]) or []:
        if p["segment"] not in rule_names:
            keys.append(p["segment"])
    rfm = {k: _rfm_name(k, rule_names, tr) for k in keys}
    db_labels = sorted(
        {int(p["segment"]) for p in _get(summary, "profiles", "dbscan", default=[]) or []}
        | set(_int_keys(_get(summary, "dbscan", "sizes")))
    )
    dbscan = {c: tr.t("label.noise") if c < 0 else tr.t("label.cluster", n=c) for c in db_labels}
    return SegmentNames(kmeans=kmeans, rfm=rfm, dbscan=dbscan)


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------


def _sample_sentence(tr: Translator, size: int | None, total: int | None) -> str:
    if size is None or total is None or size >= total:
        return tr.t("sample.all", n=tr.number(total if total is not None else size))
    return tr.t("sample.some", size=tr.number(size), n=tr.number(total))


def _profile_rows(
    profiles: Sequence[Mapping[str, Any]],
    order: Sequence[Any],
    names: Mapping[Any, str],
    tr: Translator,
    *,
    outliers: Mapping[int, int] | None = None,
) -> tuple[tuple[str, ...], ...]:
    by_segment = {p["segment"]: p for p in profiles}
    rows = []
    for seg in order:
        p = by_segment.get(seg)
        if p is None:
            continue
        row = [
            names.get(seg, str(seg)),
            tr.number(p.get("size")),
            tr.percent(p.get("customer_share")),
            tr.percent(p.get("revenue_share")),
            tr.number(p.get("median_recency"), _decimals(p.get("median_recency"))),
            tr.number(p.get("median_frequency"), _decimals(p.get("median_frequency"))),
            tr.money(p.get("median_monetary"), 0),
        ]
        if outliers is not None:
            row.append(tr.number(outliers.get(int(seg), 0)))
        rows.append(tuple(row))
    return tuple(rows)


def _profile_headers(
    tr: Translator, *, outliers: bool = False, first: str = "col.segment"
) -> tuple[str, ...]:
    headers = (
        tr.t(first),
        tr.t("col.customers"),
        tr.t("col.customer_share"),
        tr.t("col.revenue_share"),
        tr.t("col.median_recency"),
        tr.t("col.median_frequency"),
        tr.t("col.median_monetary"),
    )
    return (*headers, tr.t("col.atypical")) if outliers else headers


def _facts(profile: Mapping[str, Any], tr: Translator) -> str:
    return tr.t(
        "card.facts",
        n=tr.number(profile.get("size")),
        share=tr.percent(profile.get("customer_share")),
        revenue=tr.percent(profile.get("revenue_share")),
    )


def _decimals(x: Any) -> int:
    """0 for whole numbers, 1 otherwise (a median of counts can end in .5)."""
    return 0 if not _finite(x) or float(x).is_integer() else 1


def _typical(profile: Mapping[str, Any], tr: Translator) -> str:
    recency, frequency = profile.get("median_recency"), profile.get("median_frequency")
    return tr.t(
        "card.typical_value",
        recency=tr.plural("unit.days", recency, _decimals(recency)),
        frequency=tr.plural("unit.orders", frequency, _decimals(frequency)),
        monetary=tr.money(profile.get("median_monetary"), 0),
    )


def _levels(profile: Mapping[str, Any], tr: Translator) -> str | None:
    parts = []
    for dim in ("r", "f", "m"):
        level = profile.get(f"{dim}_level")
        if level is None or not tr.has(f"level.{dim}.{level}"):
            return None
        parts.append(tr.t(f"level.{dim}.{level}"))
    text = tr.t("label.list_comma").join(parts)
    return text[:1].upper() + text[1:] + "."


# ---------------------------------------------------------------------------
# 1. data, 2. preprocessing
# ---------------------------------------------------------------------------


def _data(
    summary: Mapping[str, Any], tr: Translator, fmt: FigureFormat, book: FigureBook | None = None
) -> Section | None:
    from custseg.distributions import LineDistributions

    stored = _get(summary, "report_data", "distributions")
    if not stored:
        return None
    dist = LineDistributions.from_dict(stored)
    audit = summary.get("audit") or {}
    findings = pd.DataFrame(audit.get("findings") or [])
    raw = None
    if "rows" in audit:
        stats = audit.get("stats") or {}
        raw = RawLog(
            lines=int(audit["rows"]),
            orders=_get(stats, "order_total", "count"),
            customers=int(audit.get("customers") or 0),
            revenue=float(audit.get("revenue") or 0.0),
            first_date=audit.get("date_min"),
            last_date=audit.get("date_max"),
            median_line=_get(stats, "line_total", "p50"),
            median_order=_get(stats, "order_total", "p50"),
        )
    return data_section(
        dist,
        tr,
        findings=findings if len(findings) else None,
        raw=raw,
        fmt=fmt,
        timer=FigureTimer(book),
    )


def _cleaning_blocks(summary: Mapping[str, Any], tr: Translator) -> list[Block]:
    cleaning = summary.get("cleaning") or {}
    rules = cleaning.get("rules") or []
    if not rules:
        return []
    rows_in = int(cleaning.get("rows_in") or 0)
    kept = int(cleaning.get("rows_kept") or 0)
    policy = cleaning.get("policy") or {}
    blocks: list[Block] = [Heading(tr.t("clean.heading"))]
    blocks.append(
        Paragraph(
            tr.t(
                "clean.intro",
                kept=tr.number(kept),
                rows=tr.number(rows_in),
                share=tr.percent(kept / rows_in if rows_in else None),
                customers=tr.number(cleaning.get("customers")),
            )
        )
    )
    choices = []
    for option in ("returns", "non_product", "duplicates"):
        value = policy.get(option)
        key = f"policy.{option}.{value}"
        if value is not None and tr.has(key):
            choices.append(tr.t(key))
    if choices:
        blocks.append(
            Paragraph(tr.t("clean.policy", choices=tr.t("label.list_separator").join(choices)))
        )
    rows = []
    for rule in rules:
        key = rule.get("rule", "")
        removed = int(rule.get("rows_removed") or 0)
        name = tr.t(f"clean.{key}.name") if tr.has(f"clean.{key}.name") else key
        what = (
            tr.t(f"clean.{key}.description")
            if tr.has(f"clean.{key}.description")
            else str(rule.get("description", ""))
        )
        rows.append(
            (name, what, tr.number(removed), tr.percent(removed / rows_in if rows_in else None))
        )
    rows.append(
        (
            tr.t("clean.kept"),
            "",
            tr.number(kept),
            tr.percent(kept / rows_in if rows_in else None),
        )
    )
    blocks.append(
        TableEntry(
            id="cleaning_rules",
            title=tr.t("table.cleaning.title"),
            headers=(
                tr.t("col.rule"),
                tr.t("col.removes"),
                tr.t("col.rows"),
                tr.t("col.row_share"),
            ),
            rows=tuple(rows),
            numeric=(False, False, True, True),
            caption=tr.t("table.cleaning.note"),
        )
    )
    return blocks


def _feature_blocks(summary: Mapping[str, Any], tr: Translator) -> list[Block]:
    features = summary.get("features") or {}
    used = list(_get(summary, "config", "features", default=None) or _RFM_FEATURES)
    snapshot = features.get("snapshot_date")
    blocks: list[Block] = [Heading(tr.t("features.heading"))]
    blocks.append(
        Paragraph(
            tr.t(
                "features.intro",
                customers=tr.number(features.get("customers")),
                snapshot=tr.date(snapshot) if snapshot else tr.t("report.not_available"),
            )
        )
    )
    items = []
    for name in used:
        if tr.has(f"feature.{name}.definition"):
            items.append(
                tr.t(
                    "features.item",
                    label=tr.variable(name, unit=False),
                    definition=tr.t(f"feature.{name}.definition"),
                )
            )
    if items:
        blocks.append(BulletList(tuple(items)))
    summary_rows = {r["feature"]: r for r in features.get("summary") or []}
    rows = []
    for name in used:
        r = summary_rows.get(name)
        if r is None:
            continue
        money = tr.t(f"var.{name}.unit") == "£" if tr.has(f"var.{name}.unit") else False

        def fmt(x: Any, money: bool = money) -> str:
            if money:
                return tr.money(x, 0)
            whole = not _finite(x) or float(x).is_integer() or abs(x) >= 10
            return tr.number(x, 0 if whole else 1)

        rows.append(
            (
                tr.variable(name),
                fmt(r.get("min")),
                fmt(r.get("25%")),
                fmt(r.get("50%")),
                fmt(r.get("mean")),
                fmt(r.get("75%")),
                fmt(r.get("max")),
            )
        )
    if rows:
        blocks.append(
            TableEntry(
                id="features_summary",
                title=tr.t("table.features.title"),
                headers=(
                    tr.t("col.feature"),
                    tr.t("col.min"),
                    tr.t("col.q1"),
                    tr.t("col.median"),
                    tr.t("col.mean"),
                    tr.t("col.q3"),
                    tr.t("col.max"),
                ),
                rows=tuple(rows),
                numeric=(False, True, True, True, True, True, True),
                caption=tr.t("table.features.note"),
            )
        )
    return blocks


def _transform_blocks(summary: Mapping[str, Any], tr: Translator) -> list[Block]:
    transform = _get(summary, "features", "transform", default={}) or {}
    method = transform.get("method")
    skew = transform.get("skewness") or {}
    if method == "log" and skew:
        logged = transform.get("log1p_columns") or []
        listed = tr.t("label.list_comma").join(
            tr.t(
                "features.skew_item",
                label=tr.variable(c, unit=False).lower(),
                value=tr.number(v, 1),
            )
            for c, v in skew.items()
        )
        key = "transform.detail_log" if logged else "transform.detail_log_none"
        return [
            Paragraph(
                tr.t(
                    key,
                    threshold=tr.number(transform.get("skew_threshold"), 1),
                    skews=listed,
                    logged=tr.t("label.list_comma").join(
                        tr.variable(c, unit=False).lower() for c in logged
                    ),
                )
            )
        ]
    if method == "yeo-johnson":
        return [Paragraph(tr.t("transform.detail_yeo_johnson"))]
    return []


def _preprocessing(
    summary: Mapping[str, Any], tr: Translator, fmt: FigureFormat, book: FigureBook | None = None
) -> Section | None:
    from custseg.distributions import FeatureHistograms

    stored = _get(summary, "report_data", "feature_histograms")
    if not stored and not summary.get("cleaning"):
        return None
    hists = FeatureHistograms.from_dict(stored) if stored else FeatureHistograms()
    method = _get(summary, "features", "transform", "method", default="log") or "log"
    if not tr.has(f"transform.{method}"):
        method = "log"
    return preprocessing_section(
        hists,
        tr,
        method=method,
        fmt=fmt,
        before=[*_cleaning_blocks(summary, tr), *_feature_blocks(summary, tr)],
        extra=_transform_blocks(summary, tr),
        timer=FigureTimer(book),
    )


# ---------------------------------------------------------------------------
# 3. methods
# ---------------------------------------------------------------------------


def _score_ranges(summary: Mapping[str, Any], tr: Translator) -> TableEntry | None:
    edges = _get(summary, "rfm", "edges")
    if not edges or not all(edges.get(f) is not None for f in _RFM_FEATURES):
        return None
    n = len(edges[RECENCY]) + 1

    def ranges(values: Sequence[float], show: Any, *, integer: bool) -> list[str]:
        """Text of bins 1..n: (-inf, e1], (e1, e2], ..., (e_{n-1}, inf)."""
        out = []
        for b in range(1, n + 1):
            lo = values[b - 2] if b > 1 else None
            hi = values[b - 1] if b <= len(values) else None
            if integer:  # whole numbers: (lo, hi] holds floor(lo) + 1 .. floor(hi)
                first = None if lo is None else math.floor(lo) + 1
                last = None if hi is None else math.floor(hi)
                if first is not None and last is not None and last < first:
                    out.append(tr.t("report.not_available"))
                elif first is None:
                    out.append(tr.t("rfm.range_upto", hi=show(last)))
                elif last is None:
                    out.append(tr.t("rfm.range_from", lo=show(first)))
                elif first == last:
                    out.append(show(last))
                else:
                    out.append(tr.t("rfm.range_between", lo=show(first), hi=show(last)))
            elif lo is not None and hi is not None and hi <= lo:
                out.append(tr.t("report.not_available"))
            elif lo is None:
                out.append(tr.t("rfm.range_upto", hi=show(hi)))
            elif hi is None:
                out.append(tr.t("rfm.range_above", lo=show(lo)))
            else:
                out.append(tr.t("rfm.range_between", lo=show(lo), hi=show(hi)))
        return out

    def whole(x: float) -> str:
        return tr.number(x)

    recency = ranges(edges[RECENCY], whole, integer=True)
    frequency = ranges(edges[FREQUENCY], whole, integer=True)
    monetary = ranges(edges[MONETARY], lambda x: tr.money(x, 0), integer=False)
    rows = []
    for score in range(n, 0, -1):
        rows.append(
            (
                tr.number(score),
                recency[n - score],  # recency is reversed: score n = bin 1
                frequency[score - 1],
                monetary[score - 1],
            )
        )
    return TableEntry(
        id="rfm_score_ranges",
        title=tr.t("table.rfm_scores.title"),
        headers=(
            tr.t("col.score"),
            tr.variable(RECENCY),
            tr.variable(FREQUENCY),
            tr.variable(MONETARY),
        ),
        rows=tuple(rows),
        numeric=(False, True, True, True),
        caption=tr.t("table.rfm_scores.note", n=n),
    )


def _methods(summary: Mapping[str, Any], tr: Translator) -> Section | None:
    config = summary.get("config") or {}
    km = summary.get("kmeans")
    if not km and not summary.get("rfm") and not summary.get("dbscan"):
        return None
    used = config.get("features") or list(_RFM_FEATURES)
    listed = tr.t("label.list_comma").join(tr.variable(f, unit=False).lower() for f in used)
    k_range = config.get("k_range") or [None, None]
    blocks: list[Block] = [
        Paragraph(
            tr.t(
                "methods.intro",
                customers=tr.number(_get(summary, "features", "customers")),
                features=listed,
            )
        )
    ]
    if km:
        blocks.append(Heading(tr.t("method.kmeans")))
        blocks.append(
            Paragraph(
                tr.t(
                    "methods.kmeans",
                    features=listed,
                    k_min=tr.number(k_range[0]),
                    k_max=tr.number(k_range[1]),
                    seed=tr.number(config.get("seed")),
                )
            )
        )
        algorithm = km.get("algorithm")
        threshold = config.get("minibatch_threshold")
        if threshold is not None:
            key = (
                "methods.minibatch_used" if algorithm == "MiniBatchKMeans" else "methods.minibatch"
            )
            blocks.append(Paragraph(tr.t(key, threshold=tr.number(threshold))))
    if summary.get("dbscan"):
        blocks.append(Heading(tr.t("method.dbscan")))
        blocks.append(Paragraph(tr.t("methods.dbscan")))
    if summary.get("rfm"):
        n = len(_get(summary, "rfm", "edges", RECENCY, default=[1, 2, 3, 4])) + 1
        blocks.append(Heading(tr.t("method.rfm")))
        blocks.append(Paragraph(tr.t("methods.rfm", n=n)))
        table = _score_ranges(summary, tr)
        if table is not None:
            blocks.append(table)
    if summary.get("outliers"):
        blocks.append(Heading(tr.t("methods.outliers.heading")))
        threshold = _get(summary, "outliers", "threshold", default=OUTLIER_THRESHOLD)
        blocks.append(Paragraph(tr.t("methods.outliers", threshold=tr.number(threshold, 1))))
    return Section(key="methods", blocks=blocks)


# ---------------------------------------------------------------------------
# 4. hyper-parameters
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _KFacts:
    """The k scan of a summary, with the rule's thresholds."""

    table: list[dict[str, Any]]
    chosen: int
    knee: int | None
    admissible: list[int]
    scores: dict[int, float | None]
    forced: bool
    min_clusters: int
    min_share: float

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> _KFacts | None:
        km = summary.get("kmeans") or {}
        table = sorted(km.get("table") or [], key=lambda r: r["k"])
        if not table or km.get("chosen_k", km.get("k")) is None:
            return None
        chosen = int(km.get("chosen_k", km.get("k")))
        scores: dict[int, float | None] = {
            int(r["k"]): r.get("score") for r in km.get("runners_up") or []
        }
        scores[chosen] = km.get("score")
        config = summary.get("config") or {}
        return cls(
            table=table,
            chosen=chosen,
            knee=None if km.get("knee") is None else int(km["knee"]),
            admissible=[int(k) for k in km.get("admissible") or []],
            scores=scores,
            forced=bool(km.get("forced")),
            min_clusters=int(config.get("min_clusters", 3)),
            min_share=float(config.get("min_cluster_share", 0.02)),
        )

    def row(self, k: int) -> dict[str, Any] | None:
        return next((r for r in self.table if int(r["k"]) == k), None)

    def finite(self, k: int) -> bool:
        r = self.row(k) or {}
        return all(_finite(r.get(c)) for c in ("silhouette", "calinski_harabasz", "davies_bouldin"))

    def auto_k(self) -> int | None:
        """What the automatic rule picks (best score, then nearer the elbow, then smaller k)."""
        candidates = [k for k in self.admissible if _finite(self.scores.get(k))]
        if not candidates:
            return None
        return min(
            candidates,
            key=lambda k: (
                -round(float(self.scores[k]), 9),  # type: ignore[arg-type]
                abs(k - self.knee) if self.knee is not None else 0,
                k,
            ),
        )

    def status(self, k: int, tr: Translator, *, long: bool) -> str:
        """Why k was or was not retained (short for the table, long for sentences)."""
        suffix = "long" if long else "short"
        r = self.row(k) or {}
        if k == self.chosen:
            return tr.t("k.status.chosen")
        if k < self.min_clusters:
            return tr.t(f"k.status.few.{suffix}", n=self.min_clusters)
        if not self.finite(k):
            return tr.t(f"k.status.no_scores.{suffix}")
        if (r.get("min_cluster_share") or 0.0) < self.min_share:
            return tr.t(
                f"k.status.small.{suffix}",
                share=tr.percent(r.get("min_cluster_share")),
                minimum=tr.percent(self.min_share, 0),
            )
        score, best = self.scores.get(k), self.scores.get(self.chosen)
        if self.forced:
            return tr.t("k.status.user")
        if _finite(score) and _finite(best) and round(score, 9) < round(best, 9):
            return tr.t(
                f"k.status.lower.{suffix}", score=tr.number(score, 2), best=tr.number(best, 2)
            )
        return tr.t(f"k.status.tie.{suffix}")


def _k_range_text(ks: Sequence[int], tr: Translator) -> str:
    ks = sorted(ks)
    if ks and ks == list(range(ks[0], ks[-1] + 1)) and len(ks) > 2:
        return tr.t("label.range", lo=ks[0], hi=ks[-1])
    return tr.t("label.list_comma").join(str(k) for k in ks)


def _k_paragraphs(facts: _KFacts, tr: Translator) -> list[str]:
    chosen = facts.row(facts.chosen)
    out = [
        tr.t(
            "k.rule",
            min_clusters=facts.min_clusters,
            min_share=tr.percent(facts.min_share, 0),
        )
    ]

    def scores_of(r: Mapping[str, Any]) -> dict[str, str]:
        return {
            "silhouette": tr.number(r.get("silhouette"), 3),
            "ch": tr.number(r.get("calinski_harabasz")),
            "db": tr.number(r.get("davies_bouldin"), 3),
            "share": tr.percent(r.get("min_cluster_share")),
        }

    if facts.forced:
        if chosen is None:
            out.append(tr.t("k.decision_forced_unscanned", k=facts.chosen))
        else:
            out.append(tr.t("k.decision_forced", k=facts.chosen, **scores_of(chosen)))
        auto = facts.auto_k()
        if auto is not None and auto != facts.chosen:
            out.append(tr.t("k.forced_note", auto=auto))
        return out
    if chosen is None:
        return out
    if facts.chosen in facts.admissible:
        if facts.knee is None:
            knee = tr.t("k.knee_none")
        elif facts.knee == facts.chosen:
            knee = tr.t("k.knee_same")
        else:
            knee = tr.t("k.knee_other", knee=facts.knee)
        out.append(
            tr.t(
                "k.decision",
                k=facts.chosen,
                score=tr.number(facts.scores.get(facts.chosen), 2),
                n=len(facts.admissible),
                values=_k_range_text(facts.admissible, tr),
                knee=knee,
                **scores_of(chosen),
            )
        )
    elif facts.chosen >= facts.min_clusters:
        out.append(
            tr.t(
                "k.decision_relaxed",
                k=facts.chosen,
                min_clusters=facts.min_clusters,
                min_share=tr.percent(facts.min_share, 0),
                share=tr.percent(chosen.get("min_cluster_share")),
            )
        )
    else:
        out.append(tr.t("k.decision_fallback", k=facts.chosen, min_clusters=facts.min_clusters))
    finite = [r for r in facts.table if facts.finite(int(r["k"]))]
    if finite:
        top = max(finite, key=lambda r: (r["silhouette"], -r["k"]))
        if int(top["k"]) != facts.chosen:
            out.append(
                tr.t(
                    "k.top_silhouette",
                    k=int(top["k"]),
                    silhouette=tr.number(top["silhouette"], 3),
                    why=facts.status(int(top["k"]), tr, long=True),
                )
            )
    return out


def _k_table(facts: _KFacts, tr: Translator) -> TableEntry:
    rows = []
    for r in facts.table:
        k = int(r["k"])
        score = facts.scores.get(k)
        rows.append(
            (
                str(k),
                tr.number(r.get("inertia")),
                tr.number(r.get("silhouette"), 3),
                tr.number(r.get("calinski_harabasz")),
                tr.number(r.get("davies_bouldin"), 3),
                tr.percent(r.get("min_cluster_share")),
                tr.number(score, 2) if k in facts.admissible else tr.t("report.not_available"),
                facts.status(k, tr, long=False),
            )
        )
    return TableEntry(
        id="k_scan",
        title=tr.t("table.k_scan.title"),
        headers=(
            "k",
            tr.t("col.inertia"),
            tr.t("score.silhouette"),
            tr.t("score.calinski_harabasz"),
            tr.t("score.davies_bouldin"),
            tr.t("col.smallest_segment"),
            tr.t("col.combined_score"),
            tr.t("col.decision"),
        ),
        rows=tuple(rows),
        numeric=(True, True, True, True, True, True, True, False),
        shades=tuple(
            (_CHOSEN_SHADE if int(r["k"]) == facts.chosen else None,) * 8 for r in facts.table
        ),
    )


def _dbscan_status(
    row: Mapping[str, Any], tr: Translator, max_noise: float, min_share: float
) -> str:
    if row.get("chosen"):
        return tr.t("db.status.chosen")
    if row.get("eligible"):
        return tr.t("db.status.eligible")
    if (row.get("n_major_clusters") or 0) < 2:
        return tr.t("db.status.few", share=tr.percent(min_share, 0))
    if (row.get("noise_share") or 0.0) > max_noise:
        return tr.t("db.status.noisy", share=tr.percent(max_noise, 0))
    return tr.t("db.status.not_eligible")


def _dbscan_blocks(
    summary: Mapping[str, Any], tr: Translator, fmt: FigureFormat, watch: FigureTimer
) -> list[Block]:

    db = summary.get("dbscan") or {}
    if not db:
        return []
    grid = db.get("grid") or []
    max_noise = float(db.get("max_noise_share", DBSCAN_MAX_NOISE_SHARE))
    min_share = float(db.get("min_cluster_share", DBSCAN_MIN_CLUSTER_SHARE))
    blocks: list[Block] = [Heading(tr.t("db.heading"))]
    min_samples = sorted({int(r["min_samples"]) for r in grid})
    factors = sorted({float(r["eps_factor"]) for r in grid})
    if grid:
        blocks.append(
            Paragraph(
                tr.t(
                    "db.rule",
                    grid=tr.t("label.list_comma").join(str(m) for m in min_samples),
                    factors=tr.t("label.list_comma").join(
                        tr.number(f, 2).rstrip("0").rstrip(".,") for f in factors
                    ),
                    min_share=tr.percent(min_share, 0),
                    max_noise=tr.percent(max_noise, 0),
                )
            )
        )
    chosen = next((r for r in grid if r.get("chosen")), None)
    eligible = [r for r in grid if r.get("eligible")]
    knees = _int_keys(db.get("knee_eps_by_min_samples"))
    if chosen is not None and chosen.get("eligible"):
        blocks.append(
            Paragraph(
                tr.t(
                    "db.decision",
                    min_samples=int(chosen["min_samples"]),
                    eps=tr.number(chosen["eps"], 3),
                    factor=tr.number(chosen["eps_factor"], 2),
                    knee=tr.number(knees.get(int(chosen["min_samples"]), db.get("knee_eps")), 3),
                    score=tr.number(chosen.get("score"), 3),
                    silhouette=tr.number(chosen.get("silhouette_non_noise"), 3),
                    clustered=tr.percent(1.0 - float(chosen.get("noise_share") or 0.0)),
                    n_eligible=len(eligible),
                    n=len(grid),
                )
            )
        )
    elif db.get("eps") is not None:
        blocks.append(
            Paragraph(
                tr.t(
                    "db.decision_none",
                    n=len(grid),
                    eps=tr.number(db.get("eps"), 3),
                    min_samples=db.get("min_samples"),
                    clusters=tr.number(db.get("n_clusters")),
                    noise=tr.percent(db.get("noise_share")),
                )
            )
        )
    if db.get("sampled"):
        blocks.append(
            Paragraph(
                tr.t(
                    "db.sampled",
                    size=tr.number(db.get("sample_size")),
                    n=tr.number(db.get("n_samples")),
                )
            )
        )
    if db.get("sampled_fit"):
        blocks.append(Paragraph(tr.t("db.sampled_fit")))
    curve = _get(summary, "report_data", "k_distance")
    if curve and curve.get("curve") and db.get("eps") is not None:
        blocks.append(
            watch.figure(
                PlotCall(
                    "plot_k_distance",
                    curve["curve"],
                    k=int(curve["k"]),
                    eps=float(db["eps"]),
                    knee_eps=curve.get("knee_eps"),
                    knee_index=curve.get("knee_index"),
                    tr=tr,
                ),
                id="dbscan_k_distance",
                title=tr.t("fig.k_distance.title"),
                caption=tr.t(
                    "fig.k_distance.caption",
                    k=int(curve["k"]),
                    min_samples=db.get("min_samples"),
                    n=tr.number(curve.get("n")),
                ),
                fmt=fmt,
            )
        )
    if grid:
        rows = tuple(
            (
                str(int(r["min_samples"])),
                tr.number(r["eps_factor"], 2),
                tr.number(r["eps"], 3),
                tr.number(r.get("n_clusters")),
                tr.number(r.get("n_major_clusters")),
                tr.percent(r.get("noise_share")),
                tr.number(r.get("silhouette_non_noise"), 3),
                tr.number(r.get("score"), 3),
                _dbscan_status(r, tr, max_noise, min_share),
            )
            for r in grid
        )
        blocks.append(
            TableEntry(
                id="dbscan_grid",
                title=tr.t("table.dbscan_grid.title"),
                headers=(
                    "min_samples",
                    tr.t("col.eps_factor"),
                    "eps",
                    tr.t("col.clusters"),
                    tr.t("col.major_clusters", share=tr.percent(min_share, 0)),
                    tr.t("col.noise"),
                    tr.t("col.silhouette_clustered"),
                    tr.t("col.score"),
                    tr.t("col.decision"),
                ),
                rows=rows,
                numeric=(True, True, True, True, True, True, True, True, False),
                shades=tuple((_CHOSEN_SHADE if r.get("chosen") else None,) * 9 for r in grid),
            )
        )
    return blocks


def _hyperparameters(
    summary: Mapping[str, Any],
    tr: Translator,
    names: SegmentNames,
    fmt: FigureFormat,
    book: FigureBook | None = None,
) -> Section | None:
    facts = _KFacts.of(summary)
    watch = FigureTimer(book)
    blocks: list[Block] = []
    if facts is not None:
        km = summary.get("kmeans") or {}
        table = pd.DataFrame(facts.table)
        blocks.append(Heading(tr.t("k.heading")))
        blocks.extend(Paragraph(p) for p in _k_paragraphs(facts, tr))
        if "inertia" in table:
            elbow_key = "fig.elbow.caption" if facts.knee is not None else "fig.elbow.caption_none"
            blocks.append(
                watch.figure(
                    PlotCall("plot_elbow", table, chosen_k=facts.chosen, knee=facts.knee, tr=tr),
                    id="k_elbow",
                    title=tr.t("fig.elbow.title"),
                    caption=tr.t(elbow_key, knee=facts.knee),
                    fmt=fmt,
                )
            )
        if {"silhouette", "calinski_harabasz", "davies_bouldin"} <= set(table.columns):
            blocks.append(
                watch.figure(
                    PlotCall(
                        "plot_k_scores",
                        table,
                        chosen_k=facts.chosen,
                        admissible=facts.admissible,
                        tr=tr,
                    ),
                    id="k_scores",
                    title=tr.t("fig.k_scores.title"),
                    caption=tr.t("fig.k_scores.caption", k=facts.chosen),
                    fmt=fmt,
                )
            )
        blocks.append(_k_table(facts, tr))
        diagram = _get(summary, "report_data", "silhouette_diagram")
        if diagram and diagram.get("cluster"):
            chosen_row = facts.row(facts.chosen) or {}
            sample = (
                _sample_sentence(tr, km.get("silhouette_sample_size"), km.get("n_samples"))
                if km.get("silhouette_sampled")
                else tr.t("sample.all", n=tr.number(len(diagram["cluster"])))
            )
            blocks.append(
                watch.figure(
                    PlotCall(
                        "plot_silhouette_diagram",
                        diagram["cluster"],
                        diagram["silhouette"],
                        names=names.kmeans,
                        average=chosen_row.get("silhouette"),
                        tr=tr,
                    ),
                    id="k_silhouette",
                    title=tr.t("fig.silhouette.title", k=facts.chosen),
                    caption=tr.t("fig.silhouette.caption", sample=sample),
                    fmt=fmt,
                )
            )
    blocks.extend(_dbscan_blocks(summary, tr, fmt, watch))
    if not blocks:
        return None
    return watch.section("hyperparameters", blocks, "hyperparameter_figures")


# ---------------------------------------------------------------------------
# 5. segments
# ---------------------------------------------------------------------------


def _outlier_reason(customer: Mapping[str, Any], tr: Translator) -> str:
    feature = customer.get("outlier_feature")
    direction = customer.get("outlier_direction")
    score = customer.get("outlier_score")
    if not feature or direction not in ("high", "low") or not tr.has(f"var.{feature}.label"):
        return tr.t("report.not_available")
    return tr.t(
        f"outlier.reason_{direction}",
        feature=tr.variable(feature, unit=False),
        z=tr.number(score, 1),
    )


def _outlier_blocks(summary: Mapping[str, Any], tr: Translator, names: SegmentNames) -> list[Block]:
    outliers = summary.get("outliers") or {}
    if not outliers:
        return []
    count = int(outliers.get("count") or 0)
    customers = int(_get(summary, "features", "customers", default=0) or 0)
    by_cluster = _int_keys(outliers.get("by_cluster"))
    blocks: list[Block] = [Heading(tr.t("outliers.heading"))]
    if count == 0:
        blocks.append(Paragraph(tr.t("outliers.none")))
        return blocks
    per_segment = tr.t("label.list_separator").join(
        tr.t("outliers.per_segment", name=names.kmeans.get(c, str(c)), n=tr.number(v))
        for c, v in sorted(by_cluster.items())
        if v
    )
    blocks.append(
        Paragraph(
            tr.t(
                "outliers.intro",
                n=tr.number(count),
                share=tr.percent(count / customers if customers else None),
                per_segment=per_segment,
            )
        )
    )
    listed = list(outliers.get("customers") or [])
    shown = sorted(listed, key=lambda c: -(c.get("outlier_score") or 0.0))[:MAX_OUTLIER_ROWS]
    shown.sort(key=lambda c: (c.get("kmeans_cluster", 0), -(c.get("outlier_score") or 0.0)))
    rows = tuple(
        (
            str(c.get("customer_id", "")),
            names.kmeans.get(int(c.get("kmeans_cluster", -1)), str(c.get("kmeans_cluster"))),
            tr.number(c.get("recency")),
            tr.number(c.get("frequency")),
            tr.money(c.get("monetary"), 0),
            _outlier_reason(c, tr),
        )
        for c in shown
    )
    if rows:
        note = (
            tr.t("table.outliers.note_some", shown=tr.number(len(rows)), n=tr.number(count))
            if len(rows) < count
            else tr.t("table.outliers.note_all")
        )
        blocks.append(
            TableEntry(
                id="outliers",
                title=tr.t("table.outliers.title"),
                headers=(
                    tr.t("col.customer"),
                    tr.t("col.segment"),
                    tr.variable(RECENCY),
                    tr.variable(FREQUENCY),
                    tr.variable(MONETARY),
                    tr.t("col.why_atypical"),
                ),
                rows=rows,
                numeric=(False, False, True, True, True, False),
                caption=note,
            )
        )
    return blocks


def _rfm_grid(summary: Mapping[str, Any]) -> pd.DataFrame | None:
    """Every (R, FM) cell with its segment (first matching rule) and customers."""
    rules = _get(summary, "rfm", "rules", default=[]) or []
    cells = _get(summary, "rfm", "cells", default=[]) or []
    edges = _get(summary, "rfm", "edges", RECENCY)
    if not cells and not rules:
        return None
    n = len(edges) + 1 if edges is not None else 5
    counts = {(int(c["r_score"]), int(c["fm_score"])): c for c in cells}
    rows = []
    for r in range(1, n + 1):
        for fm in range(1, n + 1):
            cell = counts.get((r, fm))
            if cell is not None:
                segment = cell["rfm_segment"]
                customers = int(cell["customers"])
            else:
                rule = next(
                    (
                        x
                        for x in rules
                        if x["r"][0] <= r <= x["r"][1] and x["fm"][0] <= fm <= x["fm"][1]
                    ),
                    None,
                )
                if rule is None:
                    continue
                segment, customers = rule["key"], 0
            rows.append((r, fm, segment, customers))
    return pd.DataFrame(rows, columns=["r_score", "fm_score", "rfm_segment", "customers"])


def _kmeans_blocks(
    summary: Mapping[str, Any],
    tr: Translator,
    names: SegmentNames,
    fmt: FigureFormat,
    watch: FigureTimer,
) -> list[Block]:
    from custseg import plots

    profiles = sorted(
        _get(summary, "profiles", "kmeans", default=[]) or [], key=lambda p: p["segment"]
    )
    if not profiles:
        return []
    order = [int(p["segment"]) for p in profiles]
    colors = plots.segment_colors(order)
    by_cluster = _int_keys(_get(summary, "outliers", "by_cluster"))
    blocks: list[Block] = [
        Heading(tr.t("segments.kmeans.heading")),
        Paragraph(tr.t("segments.kmeans.intro", k=len(order))),
        TableEntry(
            id="kmeans_segments",
            title=tr.t("table.kmeans_segments.title"),
            headers=_profile_headers(tr, outliers=bool(by_cluster)),
            rows=_profile_rows(profiles, order, names.kmeans, tr, outliers=by_cluster or None),
            numeric=(False, *([True] * (7 if by_cluster else 6))),
            caption=tr.t("table.segments.note"),
        ),
    ]
    cards = []
    for p in profiles:
        items = []
        profile = _levels(p, tr)
        if profile:
            items.append((tr.t("card.profile"), profile))
        items.append((tr.t("card.typical"), _typical(p, tr)))
        items.append((tr.t("card.action"), _kmeans_action(p, tr)))
        cards.append(
            Card(
                title=names.kmeans[int(p["segment"])],
                facts=_facts(p, tr),
                items=tuple(items),
                color=colors[int(p["segment"])],
            )
        )
    blocks.append(CardGrid(tuple(cards)))

    centers = _get(summary, "kmeans", "centers_standardised")
    if centers:
        frame = pd.DataFrame(centers).set_index("segment")
        frame.index = frame.index.astype(int)
        frame = frame.reindex([s for s in order if s in frame.index])
        blocks.append(
            watch.figure(
                PlotCall("plot_center_heatmap", frame, names=names.kmeans, tr=tr),
                id="kmeans_centers",
                title=tr.t("fig.centers.title"),
                caption=tr.t("fig.centers.caption"),
                fmt=fmt,
            )
        )
    boxes = _get(summary, "report_data", "boxplots", "kmeans")
    if boxes:
        blocks.append(_segment_boxplots("kmeans", boxes, int, names.kmeans, order, tr, fmt, watch))
    scatter = _get(summary, "report_data", "scatter")
    if scatter and scatter.get("kmeans_cluster"):
        points = pd.DataFrame(scatter)
        total = _get(summary, "features", "customers")
        explained = _get(summary, "report_data", "pca_explained", default=[]) or []
        blocks.append(
            watch.figure(
                PlotCall(
                    "plot_segment_scatter",
                    points,
                    label_col="kmeans_cluster",
                    names=names.kmeans,
                    order=order,
                    explained=explained,
                    tr=tr,
                ),
                id="kmeans_scatter",
                title=tr.t("fig.scatter.title"),
                caption=tr.t(
                    "fig.scatter.caption",
                    sample=_sample_sentence(tr, len(points), total),
                    explained=tr.percent(sum(explained[:2]), 0) if explained else "",
                ),
                fmt=fmt,
            )
        )
    blocks.extend(_outlier_blocks(summary, tr, names))
    return blocks


def _key_boxes(
    boxes: Mapping[str, Sequence[Mapping[str, Any]]], cast: Any
) -> dict[str, list[dict[str, Any]]]:
    return {f: [{**r, "segment": cast(r["segment"])} for r in recs] for f, recs in boxes.items()}


def _segment_boxplots(
    method: str,
    boxes: Mapping[str, Sequence[Mapping[str, Any]]],
    cast: Any,
    names: Mapping[Any, str],
    order: Sequence[Any],
    tr: Translator,
    fmt: FigureFormat,
    watch: FigureTimer,
) -> FigureEntry:
    """Monetary, frequency and recency per segment of ``method`` ("kmeans" or "rfm");
    ``cast`` turns the stored segment keys back into that method's keys."""
    return watch.figure(
        PlotCall("plot_segment_boxplots", _key_boxes(boxes, cast), names=names, order=order, tr=tr),
        id=f"{method}_boxplots",
        title=tr.t("fig.segment_boxplots.title", method=tr.t(f"method.{method}")),
        caption=tr.t("fig.segment_boxplots.caption"),
        fmt=fmt,
    )


def _rfm_blocks(
    summary: Mapping[str, Any],
    tr: Translator,
    names: SegmentNames,
    fmt: FigureFormat,
    watch: FigureTimer,
) -> list[Block]:
    from custseg import plots

    profiles = _get(summary, "profiles", "rfm", default=[]) or []
    grid = _rfm_grid(summary)
    if not profiles and grid is None:
        return []
    present = {p["segment"] for p in profiles}
    order = [k for k in names.rfm if k in present]
    by_segment = {p["segment"]: p for p in profiles}
    blocks: list[Block] = [
        Heading(tr.t("segments.rfm.heading")),
        Paragraph(tr.t("segments.rfm.intro")),
    ]
    if grid is not None and len(grid):
        largest = max(profiles, key=lambda p: p.get("size", 0)) if profiles else None
        caption = (
            tr.t(
                "fig.rfm_map.caption",
                name=names.rfm.get(largest["segment"], largest["segment"]),
                n=tr.number(largest.get("size")),
                share=tr.percent(largest.get("customer_share")),
            )
            if largest
            else tr.t("fig.rfm_map.caption_empty")
        )
        blocks.append(
            watch.figure(
                PlotCall("plot_rfm_map", grid, names=names.rfm, tr=tr),
                id="rfm_map",
                title=tr.t("fig.rfm_map.title"),
                caption=caption,
                fmt=fmt,
            )
        )
    if profiles:
        blocks.append(
            TableEntry(
                id="rfm_segments",
                title=tr.t("table.rfm_segments.title"),
                headers=_profile_headers(tr),
                rows=_profile_rows(profiles, order, names.rfm, tr),
                numeric=(False, True, True, True, True, True, True),
                caption=tr.t("table.segments.note"),
            )
        )
        colors = plots.segment_colors(order)
        rule_actions = {
            r["key"]: r.get("action") for r in _get(summary, "rfm", "rules", default=[]) or []
        }
        cards = []
        for key in order:
            p = by_segment[key]
            items = []
            if tr.has(f"segment.{key}.description"):
                items.append((tr.t("card.who"), tr.segment_description(key)))
            items.append((tr.t("card.typical"), _typical(p, tr)))
            action = (
                tr.segment_action(key)
                if tr.has(f"segment.{key}.action")
                else str(rule_actions.get(key) or p.get("action") or tr.t("report.not_available"))
            )
            items.append((tr.t("card.action"), action))
            cards.append(
                Card(
                    title=names.rfm[key], facts=_facts(p, tr), items=tuple(items), color=colors[key]
                )
            )
        blocks.append(CardGrid(tuple(cards)))
    boxes = _get(summary, "report_data", "boxplots", "rfm")
    if boxes and order:
        blocks.append(_segment_boxplots("rfm", boxes, str, names.rfm, order, tr, fmt, watch))
    return blocks


def _dbscan_interpretation(
    summary: Mapping[str, Any], tr: Translator, names: SegmentNames
) -> list[str]:
    db = summary.get("dbscan") or {}
    profiles = sorted(
        _get(summary, "profiles", "dbscan", default=[]) or [], key=lambda p: p["segment"]
    )
    if not db or not profiles:
        return []
    clusters = [p for p in profiles if int(p["segment"]) >= 0]
    noise = next((p for p in profiles if int(p["segment"]) < 0), None)
    noise_share = tr.percent(noise.get("customer_share") if noise else 0.0)
    if not clusters:
        return [tr.t("db.all_noise")]
    listed = tr.t("label.list_comma").join(
        tr.t(
            "db.cluster_share",
            name=names.dbscan[int(p["segment"])],
            share=tr.percent(p.get("customer_share")),
        )
        for p in clusters
    )
    min_share = float(db.get("min_cluster_share", DBSCAN_MIN_CLUSTER_SHARE))
    major = [p for p in clusters if (p.get("customer_share") or 0.0) >= min_share]
    largest = max(p.get("customer_share") or 0.0 for p in clusters)
    out = [
        tr.t(
            "db.found" if len(clusters) > 1 else "db.found_one",
            n=len(clusters),
            clusters=listed,
            noise=noise_share,
        )
    ]
    layering = _get(summary, "report_data", "dbscan_layering")
    if layering and len(major) >= 2 and tr.has(f"var.{layering.get('feature')}.label"):
        feature = tr.variable(layering["feature"], unit=False).lower()
        singles = []
        by_label = {int(p["segment"]): p for p in clusters}
        for c, where in layering.get("single") or []:
            p = by_label.get(int(c))
            value = p.get(f"median_{layering['feature']}") if p else None
            if where in ("lowest", "highest") and value is not None:
                singles.append(
                    tr.t(
                        f"db.single_{where}",
                        name=names.dbscan.get(int(c), str(c)),
                        feature=feature,
                        value=tr.number(value, 0 if float(value).is_integer() else 2),
                    )
                )
        out.append(
            tr.t(
                "db.layered",
                feature=feature,
                purity=tr.percent(layering.get("purity")),
                singles=(" " + " ".join(singles)) if singles else "",
            )
        )
    elif len(major) <= 1 or largest >= DBSCAN_DOMINANT_SHARE:
        out.append(tr.t("db.continuum", share=tr.percent(largest)))
    else:
        out.append(tr.t("db.separated"))
    if noise is not None and (noise.get("size") or 0) > 0:
        out.append(
            tr.t(
                "db.noise",
                n=tr.number(noise.get("size")),
                revenue=tr.percent(noise.get("revenue_share")),
                monetary=tr.money(noise.get("median_monetary"), 0),
            )
        )
    return out


def _dbscan_segment_blocks(
    summary: Mapping[str, Any], tr: Translator, names: SegmentNames
) -> list[Block]:
    profiles = sorted(
        _get(summary, "profiles", "dbscan", default=[]) or [], key=lambda p: p["segment"]
    )
    if not profiles:
        return []
    order = [p["segment"] for p in profiles if p["segment"] >= 0] + [
        p["segment"] for p in profiles if p["segment"] < 0
    ]
    blocks: list[Block] = [Heading(tr.t("segments.dbscan.heading"))]
    blocks.extend(Paragraph(p) for p in _dbscan_interpretation(summary, tr, names))
    blocks.append(
        TableEntry(
            id="dbscan_segments",
            title=tr.t("table.dbscan_segments.title"),
            headers=_profile_headers(tr, first="col.cluster"),
            rows=_profile_rows(profiles, order, names.dbscan, tr),
            numeric=(False, True, True, True, True, True, True),
        )
    )
    return blocks


def _segments(
    summary: Mapping[str, Any],
    tr: Translator,
    names: SegmentNames,
    fmt: FigureFormat,
    book: FigureBook | None = None,
) -> Section | None:
    watch = FigureTimer(book)
    blocks: list[Block] = []
    blocks.extend(_kmeans_blocks(summary, tr, names, fmt, watch))
    groups: dict[str, pd.DataFrame] = {}
    for method, order in (("kmeans", list(names.kmeans)), ("rfm", list(names.rfm))):
        profiles = _get(summary, "profiles", method, default=[]) or []
        if profiles:
            frame = pd.DataFrame(profiles)
            if method == "kmeans":
                frame["segment"] = frame["segment"].astype(int)
            frame = frame.set_index("segment").reindex(
                [s for s in order if s in set(frame["segment"])]
            )
            groups[method] = frame.reset_index()[["segment", "customer_share", "revenue_share"]]
    if groups:
        first = next(iter(groups))
        top = groups[first].iloc[0]
        group_names = {"kmeans": names.kmeans, "rfm": names.rfm}
        shares_figure = watch.figure(
            PlotCall("plot_segment_shares", groups, names=group_names, tr=tr),
            id="segment_shares",
            title=tr.t("fig.shares.title"),
            caption=tr.t(
                "fig.shares.caption",
                name=group_names[first].get(top["segment"], str(top["segment"])),
                customers=tr.percent(top["customer_share"]),
                revenue=tr.percent(top["revenue_share"]),
            ),
            fmt=fmt,
        )
        # after the K-means table and cards, before the K-means figures
        position = next(
            (i + 1 for i, b in enumerate(blocks) if isinstance(b, CardGrid)), len(blocks)
        )
        blocks.insert(position, shares_figure)
    blocks.extend(_rfm_blocks(summary, tr, names, fmt, watch))
    blocks.extend(_dbscan_segment_blocks(summary, tr, names))
    if not blocks:
        return None
    return watch.section("segments", blocks, "segment_figures")


# ---------------------------------------------------------------------------
# 6. comparison
# ---------------------------------------------------------------------------


def _crosstab_table(
    counts: pd.DataFrame,
    *,
    id: str,
    title: str,
    corner: str,
    row_names: Mapping[Any, str],
    col_names: Mapping[Any, str],
    caption: str,
    tr: Translator,
) -> TableEntry:
    """A cross-table as a heat-map table: counts, shaded by their share of the row."""
    rows, shades = [], []
    for label, row in counts.iterrows():
        total = float(row.sum())
        rows.append(
            (
                row_names.get(label, str(label)),
                *(tr.number(v) if v else "" for v in row),
                tr.number(total),
            )
        )
        shades.append((None, *(v / total if total and v else None for v in row), None))
    return TableEntry(
        id=id,
        title=title,
        headers=(
            corner,
            *(col_names.get(c, str(c)) for c in counts.columns),
            tr.t("col.total"),
        ),
        rows=tuple(rows),
        numeric=(False, *([True] * (len(counts.columns) + 1))),
        caption=caption,
        shades=tuple(shades),
    )


def _ari_reading(value: float | None, tr: Translator) -> str:
    if not _finite(value):
        return tr.t("report.not_available")
    for bound, key in ((0.2, "weak"), (0.5, "moderate"), (0.8, "strong")):
        if value < bound:  # type: ignore[operator]
            return tr.t(f"ari.{key}")
    return tr.t("ari.very_strong")


def _comparison(
    summary: Mapping[str, Any], tr: Translator, names: SegmentNames, fmt: FigureFormat
) -> Section | None:
    agreement = summary.get("agreement") or {}
    if not agreement:
        return None
    blocks: list[Block] = [Paragraph(tr.t("comparison.intro"))]
    ari = agreement.get("ari") or []
    if ari:
        blocks.append(
            TableEntry(
                id="ari",
                title=tr.t("table.ari.title"),
                headers=(tr.t("col.methods"), tr.t("col.ari"), tr.t("col.reading")),
                rows=tuple(
                    (
                        tr.t(
                            "comparison.pair",
                            a=tr.t(f"method.{r['method_a']}"),
                            b=tr.t(f"method.{r['method_b']}"),
                        ),
                        tr.number(r.get("ari"), 2),
                        _ari_reading(r.get("ari"), tr),
                    )
                    for r in ari
                ),
                numeric=(False, True, False),
                caption=tr.t("table.ari.note"),
            )
        )
    xt = agreement.get("kmeans_vs_rfm")
    if xt and xt.get("counts"):
        counts = pd.DataFrame(
            xt["counts"], index=[int(i) for i in xt["index"]], columns=xt["columns"]
        )
        rows_order = [k for k in names.rfm if k in counts.columns] + [
            c for c in counts.columns if c not in names.rfm
        ]
        # RFM segments as rows (11 readable names), K-means segments as columns
        table = counts[rows_order].T
        blocks.append(
            _crosstab_table(
                table,
                id="kmeans_vs_rfm",
                title=tr.t("table.kmeans_rfm.title"),
                corner=tr.t("col.rfm_segment"),
                row_names=names.rfm,
                col_names=names.kmeans,
                caption=tr.t("table.kmeans_rfm.note"),
                tr=tr,
            )
        )
        items = []
        for cluster in counts.index:
            row = counts.loc[cluster]
            total = int(row.sum())
            if total == 0:
                continue
            top = row.sort_values(ascending=False)
            first, second = top.index[0], top.index[1] if len(top) > 1 else None
            text = tr.t(
                "comparison.mainly",
                name=names.kmeans.get(int(cluster), str(cluster)),
                rfm=names.rfm.get(first, first),
                share=tr.percent(top.iloc[0] / total),
            )
            if second is not None and top.iloc[1] > 0:
                text += tr.t(
                    "comparison.then",
                    rfm=names.rfm.get(second, second),
                    share=tr.percent(top.iloc[1] / total),
                )
            items.append(text + tr.t("comparison.end"))
        if items:
            blocks.append(Paragraph(tr.t("comparison.reading")))
            blocks.append(BulletList(tuple(items)))
    xd = agreement.get("kmeans_vs_dbscan")
    if xd and xd.get("counts"):
        columns = [int(c) for c in xd["columns"]]
        frame = pd.DataFrame(xd["counts"], index=[int(i) for i in xd["index"]], columns=columns)
        ordered = [c for c in columns if c >= 0] + [c for c in columns if c < 0]
        blocks.append(
            _crosstab_table(
                frame[ordered],
                id="kmeans_vs_dbscan",
                title=tr.t("table.kmeans_dbscan.title"),
                corner=tr.t("col.kmeans_segment"),
                row_names=names.kmeans,
                col_names=names.dbscan,
                caption=tr.t("table.kmeans_dbscan.note"),
                tr=tr,
            )
        )
    return Section(key="comparison", blocks=blocks)


# ---------------------------------------------------------------------------
# 7. appendix
# ---------------------------------------------------------------------------


def _parameter_rows(
    config: Mapping[str, Any], tr: Translator, fmt: str
) -> list[tuple[str, str, str]]:
    """Rows (parameter, value, option) of the run; language and format of this report."""
    config = {**config, "lang": tr.lang, "figure_format": fmt}
    na = tr.t("report.not_available")
    rows: list[tuple[str, str, str]] = []

    def add(key: str, value: str, option: str) -> None:
        rows.append((tr.t(f"param.{key}"), value, option))

    k = config.get("k")
    if k is not None:
        add("k", tr.t("param.value.auto") if k == "auto" else str(k), f"--k {k}")
    k_range = config.get("k_range")
    if k_range:
        add(
            "k_range",
            tr.t("label.range", lo=k_range[0], hi=k_range[1]),
            f"--k-min {k_range[0]} --k-max {k_range[1]}",
        )
    if config.get("seed") is not None:
        add("seed", str(config["seed"]), f"--seed {config['seed']}")
    features = config.get("features")
    if features:
        add(
            "features",
            tr.t("label.list_comma").join(tr.variable(f, unit=False) for f in features),
            f"--features {','.join(features)}",
        )
    transform = config.get("transform")
    if transform:
        value = tr.t(f"transform.{transform}") if tr.has(f"transform.{transform}") else transform
        add("transform", value, f"--transform {transform}")
    policy = config.get("policy") or {}
    for option in ("returns", "non_product", "duplicates"):
        value = policy.get(option)
        if value is not None:
            key = f"policy.{option}.{value}"
            add(
                option,
                tr.t(key) if tr.has(key) else str(value),
                f"--{option.replace('_', '-')} {value}",
            )
    as_of = config.get("as_of")
    add(
        "as_of",
        tr.date(as_of) if as_of else tr.t("param.value.as_of_default"),
        f"--as-of {as_of}" if as_of else na,
    )
    if config.get("lang"):
        add(
            "lang",
            tr.t(f"param.value.lang_{config['lang']}")
            if tr.has(f"param.value.lang_{config['lang']}")
            else config["lang"],
            f"--lang {config['lang']}",
        )
    if config.get("figure_format"):
        add(
            "figure_format",
            str(config["figure_format"]).upper(),
            f"--figure-format {config['figure_format']}",
        )
    for key, decimals in (
        ("min_clusters", None),
        ("min_cluster_share", "percent"),
        ("silhouette_sample_size", None),
        ("minibatch_threshold", None),
        ("dbscan_sample_size", None),
    ):
        value = config.get(key)
        if value is not None:
            text = tr.percent(value, 0) if decimals == "percent" else tr.number(value)
            add(key, text, na)
    memory = config.get("memory_limit")
    if memory:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*GB\s*", str(memory), flags=re.IGNORECASE)
        value = (
            tr.t(
                "unit.gigabytes",
                value=tr.number(
                    float(match.group(1)), 0 if float(match.group(1)).is_integer() else 1
                ),
            )
            if match
            else str(memory)
        )
        add("memory_limit", value, na)
    return rows


def _versions(summary: Mapping[str, Any], tr: Translator) -> dict[str, str]:
    env = summary.get("environment") or {}
    versions: dict[str, str] = {}
    if summary.get("custseg_version"):
        versions["custseg"] = str(summary["custseg_version"])
    labels = {"python": "Python", "platform": tr.t("label.platform")}
    for key, value in env.items():
        if key == "machine":
            continue
        versions[labels.get(key, key)] = str(value)
    drawing = library_versions()
    for name in ("matplotlib", "jinja2"):
        if name in drawing and name not in versions:
            versions[tr.t("label.report_library", name=name)] = drawing[name]
    return versions


def _sampling(summary: Mapping[str, Any], tr: Translator) -> list[str]:
    out = []
    km = summary.get("kmeans") or {}
    if km:
        out.append(
            tr.t(
                "sampling.silhouette",
                sample=_sample_sentence(
                    tr,
                    km.get("silhouette_sample_size") if km.get("silhouette_sampled") else None,
                    km.get("n_samples"),
                ),
            )
        )
        if km.get("algorithm") == "MiniBatchKMeans":
            out.append(tr.t("sampling.minibatch"))
    db = summary.get("dbscan") or {}
    if db:
        out.append(
            tr.t(
                "sampling.dbscan",
                sample=_sample_sentence(
                    tr, db.get("sample_size") if db.get("sampled") else None, db.get("n_samples")
                ),
            )
        )
        if db.get("sampled_fit"):
            out.append(tr.t("db.sampled_fit"))
    scatter = _get(summary, "report_data", "scatter", "customer_id")
    if scatter is not None:
        out.append(
            tr.t(
                "sampling.scatter",
                sample=_sample_sentence(tr, len(scatter), _get(summary, "features", "customers")),
            )
        )
    boxes = _get(summary, "report_data", "distributions", "boxes", default={}) or {}
    if any(b.get("approximate") for b in boxes.values()):
        out.append(tr.t("sampling.approx_quantiles"))
    elif boxes:
        out.append(tr.t("sampling.exact_quantiles"))
    return out


def _appendix(
    summary: Mapping[str, Any],
    tr: Translator,
    fmt: str,
    timings: Mapping[str, float],
    cpu_timings: Mapping[str, float],
) -> Section:
    run_timings = {
        k: v for k, v in (summary.get("timings") or {}).items() if _finite(v) and k != "report"
    }
    return appendix_section(
        tr,
        parameters=_parameter_rows(summary.get("config") or {}, tr, fmt) or None,
        versions=_versions(summary, tr) or None,
        timings=timings or None,
        cpu_timings=cpu_timings or None,
        run_timings=run_timings or None,
        sampling=_sampling(summary, tr),
    )


# ---------------------------------------------------------------------------
# the report
# ---------------------------------------------------------------------------


def report_context(
    summary: Mapping[str, Any],
    tr: Translator,
    *,
    fmt: FigureFormat = "png",
    renderer: FigureWorker | None = None,
) -> ReportContext:
    """Every section of the report, drawn from a run's summary.

    Parameters
    ----------
    summary : mapping
        The dict written as summary.json by the pipeline (or loaded back
        from it).
    tr : Translator
        Report language.
    fmt : {"png", "svg"}, default "png"
        Figure format.
    renderer : FigureWorker, optional
        A started worker process that draws a share of the figures; without
        one every figure is drawn here, one after the other. The figures are
        the same bytes either way.

    Returns
    -------
    ReportContext
        The appendix's timing table holds, for each group of figures, the
        wall-clock and CPU seconds spent drawing its figures (summed over the
        figures, in whichever process drew each, so with a worker the rows can
        add up to more than the elapsed time), the plotting library's import
        and the text and tables (this process).

    Raises
    ------
    ParameterError
        ``summary`` is not a mapping.
    """
    if not isinstance(summary, Mapping):
        raise ParameterError(
            f"the report needs the run's summary as a dict, got {type(summary).__name__}",
            fix="pass the dict returned in PipelineResult.summary or loaded from summary.json",
        )
    start, cpu = time.perf_counter(), time.process_time()
    import custseg.plots  # noqa: F401  (timed on its own: matplotlib's import is not cheap)

    loaded, loaded_cpu = time.perf_counter() - start, time.process_time() - cpu
    book = FigureBook()
    names = segment_names(summary, tr)
    built = [
        _data(summary, tr, fmt, book),
        _preprocessing(summary, tr, fmt, book),
        _methods(summary, tr),
        _hyperparameters(summary, tr, names, fmt, book),
        _segments(summary, tr, names, fmt, book),
        _comparison(summary, tr, names, fmt),
    ]
    sections = [s for s in built if s is not None]
    text = time.perf_counter() - start - loaded
    text_cpu = time.process_time() - cpu - loaded_cpu
    book.draw(sections, renderer)
    timings: dict[str, float] = {"plotting_import": loaded}
    cpu_timings: dict[str, float] = {"plotting_import": loaded_cpu}
    for section in sections:
        timings.update(section.timings)
        cpu_timings.update(section.cpu_timings)
    timings["report_text"] = text
    cpu_timings["report_text"] = text_cpu
    sections.append(_appendix(summary, tr, fmt, timings, cpu_timings))
    audit = summary.get("audit") or {}
    totals = _get(summary, "report_data", "distributions", "totals", default={}) or {}
    source = _get(summary, "input", "source")
    return ReportContext(
        sections=sections,
        dataset=Path(str(source)).name if source else None,
        first_date=audit.get("date_min") or totals.get("first_date"),
        last_date=audit.get("date_max") or totals.get("last_date"),
        generated_on=summary.get("created"),
        version=str(summary.get("custseg_version") or ReportContext.version),
    )


def early_figure_jobs(
    summary: Mapping[str, Any], tr: Translator, *, fmt: FigureFormat = "png"
) -> list[FigureJob]:
    """The figures of the data and preprocessing sections, as jobs to draw ahead.

    ``summary`` needs only what those sections read (``audit``, ``cleaning``,
    ``features`` and ``report_data``'s ``distributions`` and
    ``feature_histograms``): the pipeline has them before it fits any model, so
    a :class:`~custseg.report.FigureWorker` can draw these figures meanwhile
    (:meth:`~custseg.report.FigureWorker.prefetch`).
    """
    book = FigureBook()
    _data(summary, tr, fmt, book)
    _preprocessing(summary, tr, fmt, book)
    return list(book.jobs)
