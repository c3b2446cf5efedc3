"""Per-segment profiles and readable names (with a recommended action) for clusters.

Profiles
    :func:`segment_profiles` summarises any labelling (K-means clusters, DBSCAN
    clusters with noise ``-1``, RFM segment keys): size, share of customers, revenue,
    share of revenue, and the mean and median of every feature.
    :func:`profiles_by_method` stacks the profiles of several labellings.

Names
    :func:`name_clusters` places each cluster's *median* recency, frequency and
    monetary value among the whole customer population (percentile rank, ``0..1``),
    turns them into RFM-style scores where higher is better (``r_score = 1 -
    percentile of the median recency``, so a high R score means more recent than most
    customers), cuts each score into terciles (``low`` below 1/3, ``mid``, ``high``
    from 2/3) and gives the cluster the first rule of an ordered rule table whose
    levels match. The rule table is data: a tuple of :class:`NamingRule` the user can
    replace or extend (see :data:`DEFAULT_NAMING_RULES`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.schema import FREQUENCY, MONETARY, RECENCY

__all__ = [
    "DEFAULT_NAMING_RULES",
    "LEVELS",
    "NOISE_RULE",
    "NamingRule",
    "align_labels",
    "name_clusters",
    "profiles_by_method",
    "segment_profiles",
]

logger = logging.getLogger(__name__)

SEGMENT = "segment"
METHOD = "method"

#: The three levels a score is cut into (terciles of the customer population).
LEVELS = ("low", "mid", "high", "top")
_ANY = frozenset(LEVELS)
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------- labels


def align_labels(labels: pd.Series | Sequence | np.ndarray, index: pd.Index) -> pd.Series:
    """Return ``labels`` as a Series on ``index`` (same customers, same order).

    Parameters
    ----------
    labels : Series or array-like
        A Series is matched on its index (it must hold exactly the customers of
        ``index``, each once); an array or list is taken in the order of ``index``
        and must have the same length.
    index : Index
        The customers, e.g. ``features.index``.

    Returns
    -------
    Series
        The labels, indexed by ``index``, named after the input Series (or
        ``"segment"``).

    Raises
    ------
    DataError
        Length or customers differ, duplicated customers, or missing labels.
    """
    if isinstance(labels, pd.Series):
        if labels.index.has_duplicates:
            raise DataError(
                "the labels list some customers more than once",
                fix="pass one label per customer",
            )
        if len(labels) != len(index) or not _same_customers(labels.index, index):
            raise DataError(
                f"the labels cover {len(labels)} customers that do not match the "
                f"{len(index)} customers of the features",
                fix="pass labels indexed by the same customer ids as the features",
            )
        out = labels.reindex(index)
    else:
        values = np.asarray(labels)
        if values.ndim != 1 or len(values) != len(index):
            raise DataError(
                f"got {values.size} labels for {len(index)} customers",
                fix="pass one label per customer, in the order of the features",
            )
        out = pd.Series(values, index=index, name=SEGMENT)
    if out.isna().any():
        raise DataError(
            f"{int(out.isna().sum())} customers have no label",
            fix="label every customer (use -1 for DBSCAN noise)",
        )
    return out


def _same_customers(labels_index: pd.Index, index: pd.Index) -> bool:
    """Whether every label's customer is in ``index`` (labels_index has no duplicates).

    Positions through the hash table of ``index`` (``get_indexer``): ``Index.isin``
    on Arrow strings loops in Python (60 ms for 4,334 customers).
    """
    if labels_index.equals(index):
        return True
    if not index.is_unique:
        return bool(labels_index.isin(index).all())
    return bool((index.get_indexer(labels_index) >= 0).all())


# ------------------------------------------------------------------------- profiles


def _numeric_columns(frame: pd.DataFrame, cols: Iterable[str] | None, what: str) -> list[str]:
    if cols is None:
        cols = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if not cols:
            raise ColumnError(f"the {what} have no numeric column", fix="pass numeric features")
        return list(cols)
    cols = list(cols)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"the {what} have no column {', '.join(map(repr, missing))}",
            fix=f"choose among {', '.join(map(str, frame.columns))}",
        )
    not_numeric = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise ColumnError(
            f"the {what} column {', '.join(map(repr, not_numeric))} is not numeric",
            fix="profile numeric features only",
        )
    return cols


def segment_profiles(
    features: pd.DataFrame,
    labels: pd.Series | Sequence | np.ndarray,
    *,
    feature_cols: Iterable[str] | None = None,
    monetary_col: str = MONETARY,
) -> pd.DataFrame:
    """Size, shares and per-feature mean and median of every segment.

    Parameters
    ----------
    features : DataFrame
        One row per customer (index ``customer_id``), raw (unscaled) features.
    labels : Series or array-like
        Segment of each customer: int cluster ids (``-1`` = DBSCAN noise, profiled
        like any segment) or RFM segment keys. See :func:`align_labels`.
    feature_cols : iterable of str, optional
        Features to describe; default every numeric column of ``features``.
    monetary_col : str, default "monetary"
        The spend column used for ``revenue``.

    Returns
    -------
    DataFrame
        One row per segment, sorted by segment, columns ``segment``, ``size``,
        ``customer_share``, ``revenue``, ``revenue_share``, then ``mean_<f>`` and
        ``median_<f>`` for each feature ``f``.

    Notes
    -----
    ``revenue`` is the segment's net spend (sum of ``monetary_col``; customers whose
    returns exceed their purchases count negatively) and ``revenue_share`` is
    ``revenue / total net revenue``. Shares therefore always sum to 1, and a segment
    with a negative net spend has a negative share (another segment then has a share
    above its gross part). When the total net revenue is zero or negative the shares
    are undefined and set to NaN. Missing feature values are ignored by the means and
    medians.
    """
    if not isinstance(features, pd.DataFrame):
        raise DataError("the features must be a pandas DataFrame", fix="pass a DataFrame")
    if features.empty:
        raise DataError("the features hold no customer", fix="check the cleaning step")
    cols = _numeric_columns(features, feature_cols, "features")
    _numeric_columns(features, [monetary_col], "features")
    seg = align_labels(labels, features.index).rename(SEGMENT)

    grouped = features[cols].groupby(seg, sort=True)
    size = seg.groupby(seg, sort=True).size()
    revenue = features[monetary_col].groupby(seg, sort=True).sum()
    total_revenue = float(features[monetary_col].sum())
    if total_revenue > 0:
        revenue_share = revenue / total_revenue
    else:
        logger.warning("total net revenue is %s: revenue shares are undefined", total_revenue)
        revenue_share = revenue * np.nan

    means = grouped.mean().add_prefix("mean_")
    medians = grouped.median().add_prefix("median_")
    stats = pd.concat(
        [pd.concat([means[f"mean_{c}"], medians[f"median_{c}"]], axis=1) for c in cols],
        axis=1,
    )
    out = pd.DataFrame(
        {
            "size": size.astype("int64"),
            "customer_share": size / len(seg),
            "revenue": revenue.astype("float64"),
            "revenue_share": revenue_share.astype("float64"),
        }
    ).join(stats)
    out.index.name = SEGMENT
    return out.reset_index()


def profiles_by_method(
    features: pd.DataFrame,
    labels: Mapping[str, pd.Series | Sequence | np.ndarray],
    *,
    feature_cols: Iterable[str] | None = None,
    monetary_col: str = MONETARY,
) -> pd.DataFrame:
    """Profiles of several labellings stacked, with a leading ``method`` column.

    Parameters
    ----------
    features : DataFrame
        One row per customer, raw features.
    labels : mapping of str to Series
        Method name (e.g. ``"kmeans"``, ``"dbscan"``, ``"rfm"``) to its labels.
    feature_cols, monetary_col
        As in :func:`segment_profiles`.

    Returns
    -------
    DataFrame
        ``method`` then the columns of :func:`segment_profiles`, methods in the order
        given. ``segment`` has object dtype when methods mix int and str labels.
    """
    if not labels:
        raise ParameterError("no labelling to profile", fix="pass at least one method")
    parts = [
        segment_profiles(features, lab, feature_cols=feature_cols, monetary_col=monetary_col)
        for lab in labels.values()
    ]
    for method, part in zip(labels, parts, strict=True):
        part.insert(0, METHOD, method)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- naming


@dataclass(frozen=True)
class NamingRule:
    """One row of the cluster-naming table.

    A cluster matches the rule when its R, F and M levels are each in the rule's
    allowed levels. Levels come from scores where higher is better: R ``high`` means
    more recent than most customers, F ``high`` more orders, M ``high`` more spend.

    Parameters
    ----------
    key : str
        Stable snake_case identifier (translations are looked up by key).
    name : str
        English name, e.g. ``"high-value loyal"``.
    action : str
        English recommended action.
    recency, frequency, monetary : collection of str
        Allowed levels among ``"low"``, ``"mid"``, ``"high"``, ``"top"`` (top decile;
        ``"high"`` always includes it); default: any level.
    """

    key: str
    name: str
    action: str
    recency: Collection[str] = field(default=_ANY)
    frequency: Collection[str] = field(default=_ANY)
    monetary: Collection[str] = field(default=_ANY)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not _KEY_RE.match(self.key):
            raise ParameterError(
                f"naming rule key {self.key!r} is not snake_case",
                fix="use lower-case letters, digits and underscores, e.g. 'lapsed_low_spenders'",
            )
        for attr in ("recency", "frequency", "monetary"):
            value = getattr(self, attr)
            levels = frozenset([value] if isinstance(value, str) else value)
            if not levels or not levels <= _ANY:
                raise ParameterError(
                    f"naming rule {self.key!r} has {attr} levels {sorted(levels)}",
                    fix="use a non-empty subset of 'low', 'mid', 'high'",
                )
            if "high" in levels:  # "high" always includes the top decile
                levels = levels | {"top"}
            object.__setattr__(self, attr, levels)

    def matches(self, r_level: str, f_level: str, m_level: str) -> bool:
        """Whether a cluster with these R, F, M levels gets this rule."""
        return r_level in self.recency and f_level in self.frequency and m_level in self.monetary


_T, _H, _M, _L = "top", "high", "mid", "low"
_HT = frozenset({_H, _T})  # "high" includes the top decile

#: Ordered naming table (first match wins); it covers all 27 level combinations.
DEFAULT_NAMING_RULES: tuple[NamingRule, ...] = (
    # Recent buyers (R high).
    NamingRule(
        "vip_champions",
        "VIP champions",
        "dedicated account care, VIP perks and early access; protect the relationship, no discounts needed",
        recency=_HT,
        frequency={_T},
        monetary={_T},
    ),
    NamingRule(
        "high_value_loyal",
        "high-value loyal",
        "VIP programme, early access and personal service; no discounts needed",
        recency=_HT,
        frequency={_T, _H, _M},
        monetary=_HT,
    ),
    NamingRule(
        "loyal_regulars",
        "loyal regulars",
        "cross-sell and bundles to raise the basket value",
        recency=_HT,
        frequency=_HT,
        monetary={_M, _L},
    ),
    NamingRule(
        "new_big_spenders",
        "new big spenders",
        "personal welcome and tailored recommendations to secure a second order",
        recency=_HT,
        frequency={_L},
        monetary=_HT,
    ),
    NamingRule(
        "recent_mid_spenders",
        "recent mid spenders",
        "onboarding series and a second-purchase incentive",
        recency=_HT,
        monetary={_M},
    ),
    NamingRule(
        "recent_low_spenders",
        "recent low spenders",
        "welcome series and low-cost recommendations to build the buying habit",
        recency=_HT,
        monetary={_L},
    ),
    # Neither recent nor lapsed (R mid).
    NamingRule(
        "at_risk_big_spenders",
        "at-risk big spenders",
        "personal outreach and a loyalty reward before they lapse",
        recency={_M},
        monetary=_HT,
    ),
    NamingRule(
        "at_risk_regulars",
        "at-risk regulars",
        "reminder with recommendations based on their past orders",
        recency={_M},
        frequency=_HT,
    ),
    NamingRule(
        "lapsing_mid_spenders",
        "lapsing mid spenders",
        "re-engagement email with a moderate, time-limited incentive",
        recency={_M},
        monetary={_M},
    ),
    # One order, a few weeks ago, little spent: new or occasional buyers rather than
    # customers drifting away (on Online Retail their median tenure is 7 weeks).
    NamingRule(
        "occasional_low_spenders",
        "occasional low spenders",
        "second-purchase nudge by email (recommendations, no discount); keep out of paid campaigns",
        recency={_M},
        frequency={_L},
        monetary={_L},
    ),
    NamingRule(
        "lapsing_low_spenders",
        "lapsing low spenders",
        "low-cost automated reminders; no paid incentive",
        recency={_M},
        monetary={_L},
    ),
    # Not seen for long (R low).
    NamingRule(
        "lapsed_big_spenders",
        "lapsed big spenders",
        "win-back campaign with a personalised, time-limited offer",
        recency={_L},
        monetary=_HT,
    ),
    NamingRule(
        "lapsed_mid_spenders",
        "lapsed mid spenders",
        "win-back campaign with a time-limited offer",
        recency={_L},
        monetary={_M},
    ),
    NamingRule(
        "lapsed_low_spenders",
        "lapsed low spenders",
        "one low-cost automated win-back email, then leave out of paid campaigns",
        recency={_L},
        monetary={_L},
    ),
)

#: Name given to the DBSCAN noise group (``noise_label``), whatever its profile.
NOISE_RULE = NamingRule(
    "noise",
    "atypical customers (noise)",
    "review individually; no segment-wide campaign",
)


def _percentile_rank(population: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of ``values`` in ``population`` (ties count half)."""
    pop = np.sort(population[~np.isnan(population)])
    if pop.size == 0:
        return np.full(values.shape, np.nan)
    below = np.searchsorted(pop, values, side="left")
    upto = np.searchsorted(pop, values, side="right")
    return (below + upto) / (2.0 * pop.size)


#: Score from which a level is "top" (the top decile), above "high".
TOP_CUT = 0.9


def _level(scores: np.ndarray, cuts: tuple[float, float]) -> np.ndarray:
    return np.where(
        scores >= max(TOP_CUT, cuts[1]),
        _T,
        np.where(scores >= cuts[1], _H, np.where(scores >= cuts[0], _M, _L)),
    )


def name_clusters(
    profiles: pd.DataFrame,
    overall: pd.DataFrame,
    rules: Sequence[NamingRule] = DEFAULT_NAMING_RULES,
    *,
    cuts: tuple[float, float] = (1 / 3, 2 / 3),
    recency_col: str = RECENCY,
    frequency_col: str = FREQUENCY,
    monetary_col: str = MONETARY,
    noise_label: object = -1,
    noise_rule: NamingRule = NOISE_RULE,
) -> pd.DataFrame:
    """Give each cluster a readable, distinct name and a recommended action.

    Parameters
    ----------
    profiles : DataFrame
        Output of :func:`segment_profiles` (needs ``segment``, ``median_<recency>``,
        ``median_<frequency>``, ``median_<monetary>``).
    overall : DataFrame
        The customer population the medians are compared with: the raw features
        (one row per customer) the profiles were computed from.
    rules : sequence of NamingRule, default DEFAULT_NAMING_RULES
        Ordered table, first match wins.
    cuts : (float, float), default (1/3, 2/3)
        Score thresholds: below ``cuts[0]`` is ``low``, from ``cuts[1]`` ``high``.
    recency_col, frequency_col, monetary_col : str
        Feature names in ``overall`` (and after ``median_`` in ``profiles``).
    noise_label : object, default -1
        Segment given ``noise_rule`` without looking at its profile (DBSCAN noise);
        ``None`` to name every segment by the rules.
    noise_rule : NamingRule, default NOISE_RULE
        Name and action of the noise segment.

    Returns
    -------
    DataFrame
        One row per segment, in the order of ``profiles``: ``segment``, ``name_key``
        (the rule key), ``name_variant`` (0 when the key is unique, else 1, 2, ...),
        ``name`` (English, unique), ``action``, the scores ``r_score``, ``f_score``,
        ``m_score`` in ``[0, 1]`` (higher is better; ``r_score`` is 1 minus the
        percentile of the median recency) and their levels ``r_level``, ``f_level``,
        ``m_level``.

    Notes
    -----
    When several clusters get the same rule they are numbered by descending median
    monetary value (then by segment label): ``"lapsed low spenders (1)"`` spends more than
    ``"lapsed low spenders (2)"``; ``name_key`` stays the rule key and
    ``name_variant`` holds the number, so a translation can render
    ``"<translated name> (<variant>)"``.

    Raises
    ------
    ColumnError
        A needed column is missing.
    ParameterError
        Bad ``cuts``, an empty or duplicated rule table, or a cluster no rule matches.
    """
    if not (0.0 < cuts[0] < cuts[1] <= 1.0):
        raise ParameterError(
            f"naming cuts {cuts} are not increasing within (0, 1]",
            fix="use two thresholds such as (1/3, 2/3)",
        )
    rules = tuple(rules)
    if not rules:
        raise ParameterError("the naming rule table is empty", fix="pass at least one rule")
    keys = [r.key for r in (*rules, noise_rule)]
    names = [r.name for r in (*rules, noise_rule)]
    if len(set(keys)) != len(keys) or len(set(names)) != len(names):
        raise ParameterError(
            "the naming rule table repeats a key or a name",
            fix="give every rule (and the noise rule) its own key and name",
        )
    dims = (recency_col, frequency_col, monetary_col)
    median_cols = [f"median_{c}" for c in dims]
    _numeric_columns(profiles, median_cols, "profiles")
    if SEGMENT not in profiles.columns:
        raise ColumnError("the profiles have no 'segment' column", fix="use segment_profiles()")
    _numeric_columns(overall, dims, "overall features")

    pct = {
        c: _percentile_rank(
            overall[c].to_numpy(dtype="float64"),
            profiles[f"median_{c}"].to_numpy(dtype="float64"),
        )
        for c in dims
    }
    scores = {
        "r_score": 1.0 - pct[recency_col],
        "f_score": pct[frequency_col],
        "m_score": pct[monetary_col],
    }
    levels = {k.replace("score", "level"): _level(v, cuts) for k, v in scores.items()}

    segments = profiles[SEGMENT].tolist()
    chosen: list[NamingRule] = []
    for i, seg in enumerate(segments):
        if noise_label is not None and seg == noise_label:
            chosen.append(noise_rule)
            continue
        lv = (levels["r_level"][i], levels["f_level"][i], levels["m_level"][i])
        rule = next((r for r in rules if r.matches(*lv)), None)
        if rule is None:
            raise ParameterError(
                f"no naming rule matches cluster {seg!r} (R {lv[0]}, F {lv[1]}, M {lv[2]})",
                fix="end the rule table with a catch-all rule (default levels)",
            )
        chosen.append(rule)

    out = pd.DataFrame(
        {
            SEGMENT: profiles[SEGMENT].to_numpy(),
            "name_key": [r.key for r in chosen],
            "name_variant": 0,
            "name": [r.name for r in chosen],
            "action": [r.action for r in chosen],
            **scores,
            **levels,
        },
        index=profiles.index,
    )
    # Distinct names: number the clusters sharing a key by descending median spend.
    dup = out["name_key"].duplicated(keep=False)
    if dup.any():
        order = pd.DataFrame(
            {
                "key": out["name_key"],
                "spend": profiles[f"median_{monetary_col}"].to_numpy(dtype="float64"),
                "seg": out[SEGMENT],
            },
            index=out.index,
        )[dup]
        order = order.sort_values(
            ["key", "spend", "seg"], ascending=[True, False, True], kind="stable"
        )
        variant = order.groupby("key", sort=False).cumcount() + 1
        out.loc[variant.index, "name_variant"] = variant.to_numpy()
        out.loc[dup, "name"] = (
            out.loc[dup, "name"] + " (" + out.loc[dup, "name_variant"].astype(str) + ")"
        )
    return out.reset_index(drop=True)
