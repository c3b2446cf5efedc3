"""RFM scoring: quantile scores, the RFM cell and the named segments of marketing practice.

Scores
------
Each of recency, frequency and monetary is cut at its ``n_bins`` quantiles, learned by
:meth:`RFMSegmenter.fit`: the ``n_bins - 1`` inner edges are
``numpy.quantile(values, [1/n, 2/n, ..., (n-1)/n])`` (linear interpolation, the numpy and
pandas default). Bins are closed on the right, like :func:`pandas.cut`::

    bin 1 = (-inf, e1], bin 2 = (e1, e2], ..., bin n = (e_{n-1}, +inf)

so the bin of a value is ``1 + number of edges strictly below it`` and **a value equal to an
edge goes to the lower bin**. Frequency and monetary scores are the bin; the recency score
is reversed (``n_bins + 1 - bin``) because fewer days since the last purchase is better: the
most recent customers get 5.

Ties are never broken by row position (no ``rank(method="first")``): equal values always
get equal scores, the result does not depend on row order, and :meth:`RFMSegmenter.predict`
scores new customers with the edges learned at fit time. Frequency has massive ties (a third
of Online Retail customers have exactly one order, so its 20 % edge is 1 and one-order
customers all score F = 1). When ties make edges coincide, the scores between them stay
empty rather than being handed out arbitrarily: with frequency edges ``[1, 1, 2, 4]``, one
order scores 1, two orders 3, three or four orders 4 (score 2 is empty).
The lowest value seen at fit time always lands in bin 1, whatever the ties: one-order
customers get F = 1, the lowest spenders M = 1 and the most recent customers R = 5.

Segments
--------
The eleven segments come from the widely published recency x frequency-monetary grid. The
combined score is ``fm = floor((f + m) / 2)``, the rounded-down mean of F and M (rounding
down is conservative: a customer needs both scores high to reach FM 5). The published grid
draws each segment as a box ``[a, b]`` on a continuous 0-5 axis; on integer 1-5 scores that
box covers scores ``a + 1 .. b`` (Champions R 4-5, FM 4-5 is the cell R 5, FM 5). Converted
this way, the eleven boxes cover the whole 5 x 5 grid, and they overlap in exactly three
nested pairs. Rules are tried in order and the first match wins, so the inner box of each
pair comes first:

* Champions (R 5, FM 5) before Loyal Customers (R 3-5, FM 4-5);
* Can't Lose Them (R 1, FM 5) before At Risk (R 1-2, FM 3-5);
* Hibernating (R 2, FM 2) before Lost (R 1-2, FM 1-2).

The resulting (R, FM) map, every one of the 125 (R, F, M) cells being mapped through it::

    R\\FM  1               2                    3                    4                5
    5     new_customers   potential_loyalists  potential_loyalists  loyal_customers  champions
    4     promising       potential_loyalists  potential_loyalists  loyal_customers  loyal_customers
    3     about_to_sleep  about_to_sleep       need_attention       loyal_customers  loyal_customers
    2     lost            hibernating          at_risk              at_risk          at_risk
    1     lost            lost                 at_risk              at_risk          cant_lose_them

The rules are plain data (:class:`SegmentRule`); pass your own tuple to override them.
:func:`validate_rules` rejects rule sets that leave a cell unmapped or contain a rule that
can never win.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.schema import FREQUENCY, MONETARY, RECENCY

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_RULES",
    "FM_SCORE",
    "F_SCORE",
    "M_SCORE",
    "RFM_SCORE",
    "RFM_SEGMENT",
    "RFM_SEGMENT_NAME",
    "R_SCORE",
    "SCORE_COLUMNS",
    "RFMSegmenter",
    "SegmentRule",
    "assign_segment",
    "combine_fm",
    "rfm_table",
    "rules_from_records",
    "segment_actions",
    "segment_grid",
    "segment_sizes",
    "validate_rules",
]

# Output column names.
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
RFM_SCORE = "rfm_score"
FM_SCORE = "fm_score"
RFM_SEGMENT = "rfm_segment"
RFM_SEGMENT_NAME = "rfm_segment_name"
SCORE_COLUMNS = (R_SCORE, F_SCORE, M_SCORE, RFM_SCORE, FM_SCORE, RFM_SEGMENT, RFM_SEGMENT_NAME)

# Scores are written as one digit each in the RFM cell ("545"), hence at most 9 bins.
MIN_BINS = 2
MAX_BINS = 9

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SegmentRule:
    """One named segment: a box on the (recency score, frequency-monetary score) grid.

    Parameters
    ----------
    key : str
        Stable snake_case identifier (``"cant_lose_them"``), used in outputs and as the
        translation key.
    name : str
        English display name (``"Can't Lose Them"``).
    r : tuple of (int, int)
        Inclusive range ``(lo, hi)`` of the recency score (higher = more recent).
    fm : tuple of (int, int)
        Inclusive range ``(lo, hi)`` of the frequency-monetary score
        ``floor((f + m) / 2)``, see :func:`combine_fm`.
    action : str
        English recommended marketing action.
    """

    key: str
    name: str
    r: tuple[int, int]
    fm: tuple[int, int]
    action: str

    def matches(self, r_score: int, fm_score: int) -> bool:
        """Whether the cell ``(r_score, fm_score)`` lies in this rule's box."""
        return self.r[0] <= r_score <= self.r[1] and self.fm[0] <= fm_score <= self.fm[1]


#: The eleven classic segments, in matching order (first match wins). See the module
#: docstring for the grid they come from and why this order.
DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule(
        key="champions",
        name="Champions",
        r=(5, 5),
        fm=(5, 5),
        action=(
            "Reward them with early access to new products and loyalty perks, and ask for "
            "reviews and referrals. Do not discount: they already buy often and at full price."
        ),
    ),
    SegmentRule(
        key="loyal_customers",
        name="Loyal Customers",
        r=(3, 5),
        fm=(4, 5),
        action=(
            "Upsell higher-value products and enrol them in the loyalty programme. "
            "Ask for reviews and keep them engaged with personalised recommendations."
        ),
    ),
    SegmentRule(
        key="potential_loyalists",
        name="Potential Loyalists",
        r=(4, 5),
        fm=(2, 3),
        action=(
            "Offer membership of the loyalty programme and recommendations based on what they "
            "bought, to turn their recent purchases into a habit."
        ),
    ),
    SegmentRule(
        key="new_customers",
        name="New Customers",
        r=(5, 5),
        fm=(1, 1),
        action=(
            "Send an onboarding series (welcome, best sellers, how to reorder) and a small "
            "incentive for a second order within 30 days."
        ),
    ),
    SegmentRule(
        key="promising",
        name="Promising",
        r=(4, 4),
        fm=(1, 1),
        action=(
            "Build awareness of the range with free samples or a time-limited offer on a "
            "second order."
        ),
    ),
    SegmentRule(
        key="need_attention",
        name="Need Attention",
        r=(3, 3),
        fm=(3, 3),
        action=(
            "Send limited-time offers on the categories they already buy, with personalised "
            "recommendations, to reactivate them before they slip."
        ),
    ),
    SegmentRule(
        key="about_to_sleep",
        name="About to Sleep",
        r=(3, 3),
        fm=(1, 2),
        action=(
            "Reconnect with popular products and a discount on a category they bought before; "
            "keep the cost per contact low."
        ),
    ),
    SegmentRule(
        key="cant_lose_them",
        name="Can't Lose Them",
        r=(1, 1),
        fm=(5, 5),
        action=(
            "Win them back personally: a call or account-manager email asking why they stopped, "
            "with a renewal offer on the products they bought most."
        ),
    ),
    SegmentRule(
        key="at_risk",
        name="At Risk",
        r=(1, 2),
        fm=(3, 5),
        action=(
            "Send personalised reactivation emails with offers on their past categories, "
            "and survey them to find out what went wrong."
        ),
    ),
    SegmentRule(
        key="hibernating",
        name="Hibernating",
        r=(2, 2),
        fm=(2, 2),
        action=(
            "Offer other relevant products and special discounts in low-cost campaigns only; "
            "do not spend on individual contact."
        ),
    ),
    SegmentRule(
        key="lost",
        name="Lost",
        r=(1, 2),
        fm=(1, 2),
        action=(
            "Try one low-cost win-back campaign; if they do not respond, stop targeting them "
            "to save budget."
        ),
    ),
)


def combine_fm(f: int | np.ndarray, m: int | np.ndarray) -> int | np.ndarray:
    """The frequency-monetary score: the rounded-down mean ``floor((f + m) / 2)``.

    Parameters
    ----------
    f, m : int or ndarray of int
        Frequency and monetary scores.

    Returns
    -------
    int or ndarray of int
        FM score, in the same range as ``f`` and ``m``.
    """
    return (f + m) // 2


def _check_n_bins(n_bins: object) -> int:
    if (
        isinstance(n_bins, bool)
        or not isinstance(n_bins, int | np.integer)
        or not MIN_BINS <= n_bins <= MAX_BINS
    ):
        raise ParameterError(
            f"n_bins must be an integer from {MIN_BINS} to {MAX_BINS}, got {n_bins!r}",
            fix="Use n_bins=5 (quintiles) or 4 (quartiles)",
        )
    return int(n_bins)


def _check_range(rule_key: str, field: str, value: object, n_bins: int) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise ParameterError(
            f"segment rule {rule_key!r}: {field} must be a tuple (lo, hi) of two integers, "
            f"got {value!r}",
            fix=f"Write {field}=(lo, hi), e.g. {field}=(4, 5)",
        )
    lo, hi = value
    if not 1 <= lo <= hi <= n_bins:
        raise ParameterError(
            f"segment rule {rule_key!r}: {field}={value!r} is not within 1 <= lo <= hi <= {n_bins}",
            fix=f"Use score ranges between 1 and n_bins={n_bins}, lower bound first",
        )


def _first_match_table(rules: Sequence[SegmentRule], n_bins: int) -> np.ndarray:
    """Index of the first matching rule for each (r, fm) cell, -1 where none matches.

    Shape ``(n_bins + 1, n_bins + 1)``; row/column 0 are unused so scores index directly.
    """
    table = np.full((n_bins + 1, n_bins + 1), -1, dtype=np.int64)
    for r in range(1, n_bins + 1):
        for fm in range(1, n_bins + 1):
            for i, rule in enumerate(rules):
                if rule.matches(r, fm):
                    table[r, fm] = i
                    break
    return table


def validate_rules(
    rules: Iterable[SegmentRule] = DEFAULT_RULES, n_bins: int = 5
) -> tuple[SegmentRule, ...]:
    """Check an ordered rule set and return it as a tuple.

    A valid rule set has unique snake_case keys, non-empty names and actions, score ranges
    within ``1..n_bins``, maps every (R, F, M) cell to a segment (first match wins) and has
    no rule that can never win (shadowed by earlier rules).

    Since every FM value ``1..n_bins`` is reached (``f = m = fm``), checking the
    ``n_bins x n_bins`` (R, FM) grid checks all ``n_bins ** 3`` (R, F, M) cells.

    Parameters
    ----------
    rules : iterable of SegmentRule
        Rules in matching order.
    n_bins : int, default 5
        Number of score levels.

    Returns
    -------
    tuple of SegmentRule

    Raises
    ------
    ParameterError
        If any of the conditions above fails.
    """
    n_bins = _check_n_bins(n_bins)
    if isinstance(rules, SegmentRule | str | Mapping):
        raise ParameterError(
            "segment rules must be a sequence of SegmentRule",
            fix="Pass a tuple of SegmentRule, e.g. custseg.rfm.DEFAULT_RULES",
        )
    rules = tuple(rules)
    if not rules:
        raise ParameterError(
            "segment rules are empty", fix="Pass at least one SegmentRule covering every cell"
        )
    seen: set[str] = set()
    for rule in rules:
        if not isinstance(rule, SegmentRule):
            raise ParameterError(
                f"segment rules must be SegmentRule objects, got {type(rule).__name__}",
                fix="Build rules with custseg.rfm.SegmentRule or rules_from_records",
            )
        if not isinstance(rule.key, str) or not _KEY_PATTERN.match(rule.key):
            raise ParameterError(
                f"segment rule key {rule.key!r} is not snake_case",
                fix="Use lower-case letters, digits and underscores, starting with a letter",
            )
        if rule.key in seen:
            raise ParameterError(
                f"segment rule key {rule.key!r} appears twice",
                fix="Give every rule a distinct key",
            )
        seen.add(rule.key)
        for field in ("name", "action"):
            value = getattr(rule, field)
            if not isinstance(value, str) or not value.strip():
                raise ParameterError(
                    f"segment rule {rule.key!r} has an empty {field}",
                    fix=f"Give every rule a non-empty {field}",
                )
        _check_range(rule.key, "r", rule.r, n_bins)
        _check_range(rule.key, "fm", rule.fm, n_bins)

    table = _first_match_table(rules, n_bins)
    gaps = [
        (r, fm) for r in range(1, n_bins + 1) for fm in range(1, n_bins + 1) if table[r, fm] < 0
    ]
    if gaps:
        shown = ", ".join(f"R={r} FM={fm} (e.g. cell {r}{fm}{fm})" for r, fm in gaps[:3])
        more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        raise ParameterError(
            f"segment rules leave {len(gaps)} (R, FM) cells unmapped: {shown}{more}",
            fix="Add a rule covering them, or end the rules with a catch-all r=(1, n), fm=(1, n)",
        )
    winners = set(table[1:, 1:].ravel().tolist())
    dead = [rule.key for i, rule in enumerate(rules) if i not in winners]
    if dead:
        raise ParameterError(
            f"segment rules {dead} can never match: earlier rules cover all their cells",
            fix="Move each of them before the broader rule that shadows it, or remove it",
        )
    return rules


def rules_from_records(records: Iterable[Mapping[str, object]]) -> tuple[SegmentRule, ...]:
    """Build rules from plain records, e.g. read from a JSON or YAML file.

    Parameters
    ----------
    records : iterable of mapping
        One mapping per rule, in matching order, with the fields of :class:`SegmentRule`
        (``key``, ``name``, ``r``, ``fm``, ``action``); ``r`` and ``fm`` are two-item lists.

    Returns
    -------
    tuple of SegmentRule
        Not yet validated against a number of bins; see :func:`validate_rules`.

    Raises
    ------
    ParameterError
        If a record lacks a field or has an unknown one.
    """
    fields = ("key", "name", "r", "fm", "action")
    rules = []
    for i, record in enumerate(records):
        missing = [f for f in fields if f not in record]
        extra = sorted(set(record) - set(fields))
        if missing or extra:
            raise ParameterError(
                f"segment rule record {i} has missing fields {missing} or unknown fields {extra}",
                fix=f"Give each record exactly the fields {list(fields)}",
            )
        rules.append(
            SegmentRule(
                key=record["key"],  # type: ignore[arg-type]
                name=record["name"],  # type: ignore[arg-type]
                r=tuple(record["r"]),  # type: ignore[arg-type]
                fm=tuple(record["fm"]),  # type: ignore[arg-type]
                action=record["action"],  # type: ignore[arg-type]
            )
        )
    return tuple(rules)


def assign_segment(
    r: int, f: int, m: int, rules: Sequence[SegmentRule] = DEFAULT_RULES
) -> SegmentRule:
    """The segment of one RFM cell: the first rule whose box holds ``(r, floor((f+m)/2))``.

    Parameters
    ----------
    r, f, m : int
        Recency (higher = more recent), frequency and monetary scores, each at least 1.
    rules : sequence of SegmentRule, default DEFAULT_RULES
        Rules in matching order.

    Returns
    -------
    SegmentRule

    Raises
    ------
    ParameterError
        If a score is not a positive integer or no rule matches.
    """
    for name, value in (("r", r), ("f", f), ("m", m)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ParameterError(
                f"score {name}={value!r} is not a positive integer",
                fix="Pass integer scores from 1 to n_bins",
            )
    fm = combine_fm(int(f), int(m))
    for rule in rules:
        if rule.matches(int(r), fm):
            return rule
    raise ParameterError(
        f"no segment rule matches cell {r}{f}{m} (R={r}, FM={fm})",
        fix="Add a rule covering it; validate_rules() lists every gap",
    )


def segment_grid(rules: Sequence[SegmentRule] = DEFAULT_RULES, n_bins: int = 5) -> pd.DataFrame:
    """Every (R, F, M) cell and its segment.

    Parameters
    ----------
    rules : sequence of SegmentRule, default DEFAULT_RULES
        Rules in matching order; validated first.
    n_bins : int, default 5
        Number of score levels.

    Returns
    -------
    DataFrame
        ``n_bins ** 3`` rows sorted by cell, columns ``r_score``, ``f_score``, ``m_score``,
        ``rfm_score``, ``fm_score``, ``rfm_segment`` (key), ``rfm_segment_name``.

    Raises
    ------
    ParameterError
        If the rules are invalid (see :func:`validate_rules`).
    """
    rules = validate_rules(rules, n_bins)
    levels = np.arange(1, n_bins + 1)
    r, f, m = (a.ravel() for a in np.meshgrid(levels, levels, levels, indexing="ij"))
    return _score_frame(pd.RangeIndex(len(r)), r, f, m, rules, n_bins)


def segment_actions(rules: Sequence[SegmentRule] = DEFAULT_RULES) -> pd.DataFrame:
    """The segments in matching order with their recommended marketing action.

    Parameters
    ----------
    rules : sequence of SegmentRule, default DEFAULT_RULES

    Returns
    -------
    DataFrame
        Columns ``key``, ``name``, ``action``, one row per rule.
    """
    return pd.DataFrame(
        {
            "key": [rule.key for rule in rules],
            "name": [rule.name for rule in rules],
            "action": [rule.action for rule in rules],
        }
    )


def segment_sizes(
    table: pd.DataFrame,
    rules: Sequence[SegmentRule] = DEFAULT_RULES,
    segment_col: str = RFM_SEGMENT,
) -> pd.DataFrame:
    """Customers per segment, every rule listed (zero when empty), in matching order.

    Parameters
    ----------
    table : DataFrame
        Output of :meth:`RFMSegmenter.predict` or :func:`rfm_table`.
    rules : sequence of SegmentRule, default DEFAULT_RULES
        The rules the table was built with.
    segment_col : str, default "rfm_segment"
        Column holding the segment key.

    Returns
    -------
    DataFrame
        Columns ``key``, ``name``, ``customers`` (int), ``share`` (fraction of all rows).

    Raises
    ------
    ColumnError
        If ``segment_col`` is missing.
    ParameterError
        If the table holds a key that no rule defines.
    """
    if segment_col not in table.columns:
        raise ColumnError(
            f"column {segment_col!r} not found in the RFM table",
            fix="Pass the output of RFMSegmenter.predict or rfm_table",
        )
    counts = table[segment_col].value_counts()
    keys = [rule.key for rule in rules]
    unknown = sorted(set(counts.index) - set(keys))
    if unknown:
        raise ParameterError(
            f"segments {unknown} are not defined by the rules given",
            fix="Pass the rules the table was built with",
        )
    customers = [int(counts.get(k, 0)) for k in keys]
    total = len(table)
    return pd.DataFrame(
        {
            "key": keys,
            "name": [rule.name for rule in rules],
            "customers": customers,
            "share": [c / total if total else 0.0 for c in customers],
        }
    )


def _quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """The ``n_bins - 1`` inner quantile edges, non-decreasing."""
    edges = np.quantile(values, np.arange(1, n_bins) / n_bins)
    return np.maximum.accumulate(edges)


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """1 + number of edges strictly below each value (a value on an edge goes to the lower bin)."""
    return np.searchsorted(edges, values, side="left").astype(np.int64) + 1


def _score_frame(
    index: pd.Index,
    r: np.ndarray,
    f: np.ndarray,
    m: np.ndarray,
    rules: tuple[SegmentRule, ...],
    n_bins: int,
) -> pd.DataFrame:
    fm = combine_fm(f, m)
    which = _first_match_table(rules, n_bins)[r, fm]
    keys = np.array([rule.key for rule in rules], dtype=object)
    names = np.array([rule.name for rule in rules], dtype=object)
    cell = (r * 100 + f * 10 + m).astype(str)
    return pd.DataFrame(
        {
            R_SCORE: r,
            F_SCORE: f,
            M_SCORE: m,
            RFM_SCORE: pd.array(cell, dtype="str"),
            FM_SCORE: fm,
            RFM_SEGMENT: pd.array(keys[which], dtype="str"),
            RFM_SEGMENT_NAME: pd.array(names[which], dtype="str"),
        },
        index=index,
    )


class RFMSegmenter(BaseEstimator):
    """Quantile RFM scores and rule-based segments, scikit-learn style.

    ``fit`` learns the quantile edges of recency, frequency and monetary; ``predict``
    scores any customers with those edges and maps each cell to a segment. See the module
    docstring for the binning rule (a value on an edge goes to the lower bin; recency
    reversed) and the default rules.

    Parameters
    ----------
    n_bins : int, default 5
        Number of score levels (5 = quintiles), from 2 to 9.
    rules : sequence of SegmentRule, default DEFAULT_RULES
        Segment rules in matching order (first match wins). ``DEFAULT_RULES`` is defined
        for ``n_bins=5``; other values need rules of their own.
    recency_col, frequency_col, monetary_col : str
        Input column names.

    Attributes
    ----------
    recency_edges_, frequency_edges_, monetary_edges_ : ndarray of shape (n_bins - 1,)
        Inner quantile edges learned at fit time.
    rules_ : tuple of SegmentRule
        The validated rules.
    n_features_in_ : int
        Always 3.

    Examples
    --------
    >>> seg = RFMSegmenter().fit(features)  # doctest: +SKIP
    >>> seg.predict(features)[["rfm_score", "rfm_segment"]]  # doctest: +SKIP
    """

    def __init__(
        self,
        n_bins: int = 5,
        rules: Sequence[SegmentRule] = DEFAULT_RULES,
        recency_col: str = RECENCY,
        frequency_col: str = FREQUENCY,
        monetary_col: str = MONETARY,
    ):
        self.n_bins = n_bins
        self.rules = rules
        self.recency_col = recency_col
        self.frequency_col = frequency_col
        self.monetary_col = monetary_col

    def _columns(self) -> tuple[str, str, str]:
        return (self.recency_col, self.frequency_col, self.monetary_col)

    def _values(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not isinstance(features, pd.DataFrame):
            raise ParameterError(
                f"features must be a pandas DataFrame, got {type(features).__name__}",
                fix="Pass the per-customer features frame (index customer_id)",
            )
        missing = [c for c in self._columns() if c not in features.columns]
        if missing:
            raise ColumnError(
                f"RFM columns {missing} not found; columns are {list(features.columns)}",
                fix="Rename them or pass recency_col=, frequency_col=, monetary_col=",
            )
        out = []
        for col in self._columns():
            series = features[col]
            if not (
                pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            ):
                raise DataError(
                    f"RFM column {col!r} is not numeric (dtype {series.dtype})",
                    fix="Convert it to numbers before scoring",
                )
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isfinite(values)
            if bad.any():
                raise DataError(
                    f"RFM column {col!r} has {int(bad.sum())} missing or infinite values",
                    fix="Drop or fill those customers before scoring",
                )
            out.append(values)
        return out[0], out[1], out[2]

    def fit(self, features: pd.DataFrame, y: None = None) -> RFMSegmenter:
        """Learn the quantile edges of recency, frequency and monetary.

        Parameters
        ----------
        features : DataFrame
            One row per customer with the three RFM columns.
        y : None
            Ignored.

        Returns
        -------
        RFMSegmenter
            self.

        Raises
        ------
        ParameterError
            Bad ``n_bins`` or rules, or fewer customers than bins.
        ColumnError, DataError
            Missing or unusable columns.
        """
        n_bins = _check_n_bins(self.n_bins)
        rules = validate_rules(self.rules, n_bins)
        recency, frequency, monetary = self._values(features)
        if len(recency) < n_bins:
            raise ParameterError(
                f"{len(recency)} customers is fewer than n_bins={n_bins}",
                fix="Use more customers or a smaller n_bins",
            )
        self.rules_ = rules
        self.recency_edges_ = _quantile_edges(recency, n_bins)
        self.frequency_edges_ = _quantile_edges(frequency, n_bins)
        self.monetary_edges_ = _quantile_edges(monetary, n_bins)
        self.n_features_in_ = 3
        logger.debug(
            "RFM edges: recency %s, frequency %s, monetary %s",
            self.recency_edges_,
            self.frequency_edges_,
            self.monetary_edges_,
        )
        return self

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Score customers with the fitted edges and assign their segment.

        Parameters
        ----------
        features : DataFrame
            One row per customer with the three RFM columns (new customers allowed).

        Returns
        -------
        DataFrame
            Indexed like ``features``; columns ``r_score``, ``f_score``, ``m_score``
            (int, 1..n_bins, recency reversed), ``rfm_score`` (str cell, e.g. ``"545"``),
            ``fm_score`` (int), ``rfm_segment`` (rule key), ``rfm_segment_name``.
        """
        check_is_fitted(self, "rules_")
        recency, frequency, monetary = self._values(features)
        n_bins = len(self.recency_edges_) + 1
        r = n_bins + 1 - _bin(recency, self.recency_edges_)
        f = _bin(frequency, self.frequency_edges_)
        m = _bin(monetary, self.monetary_edges_)
        return _score_frame(features.index.copy(), r, f, m, self.rules_, n_bins)

    def fit_predict(self, features: pd.DataFrame, y: None = None) -> pd.DataFrame:
        """Fit on ``features`` and score them; see :meth:`predict`."""
        return self.fit(features).predict(features)


def rfm_table(
    features: pd.DataFrame,
    *,
    n_bins: int = 5,
    rules: Sequence[SegmentRule] = DEFAULT_RULES,
    recency_col: str = RECENCY,
    frequency_col: str = FREQUENCY,
    monetary_col: str = MONETARY,
) -> pd.DataFrame:
    """RFM scores and segments in one call: the input's R, F, M columns plus the scores.

    Parameters
    ----------
    features : DataFrame
        One row per customer (index ``customer_id``) with recency, frequency, monetary.
    n_bins : int, default 5
        Number of score levels.
    rules : sequence of SegmentRule, default DEFAULT_RULES
        Segment rules in matching order.
    recency_col, frequency_col, monetary_col : str
        Input column names.

    Returns
    -------
    DataFrame
        Indexed like ``features``: the three input columns, then ``r_score``, ``f_score``,
        ``m_score``, ``rfm_score``, ``fm_score``, ``rfm_segment``, ``rfm_segment_name``.
    """
    segmenter = RFMSegmenter(
        n_bins=n_bins,
        rules=rules,
        recency_col=recency_col,
        frequency_col=frequency_col,
        monetary_col=monetary_col,
    )
    scores = segmenter.fit_predict(features)
    return pd.concat([features[[recency_col, frequency_col, monetary_col]], scores], axis=1)
