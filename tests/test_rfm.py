"""Tests for custseg.rfm: quantile scores, the 125-cell segment map, rule validation."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.rfm import (
    DEFAULT_RULES,
    SCORE_COLUMNS,
    RFMSegmenter,
    SegmentRule,
    assign_segment,
    combine_fm,
    rfm_table,
    rules_from_records,
    segment_actions,
    segment_grid,
    segment_sizes,
    validate_rules,
)

# ---------------------------------------------------------------------------
# Hand-computed fixture: 11 customers, so numpy's linear quantiles at 0.2, 0.4, 0.6, 0.8
# fall exactly on sorted positions 2, 4, 6, 8 (0-based; position = q * (11 - 1)).
#
# recency sorted   [2, 5, 5, 10, 15, 30, 45, 60, 120, 200, 365] -> edges [5, 15, 45, 120]
# frequency sorted [1, 1, 1, 1, 1, 2, 2, 3, 4, 8, 12]           -> edges [1, 1, 2, 4]
# monetary sorted  [20, 40, 60, 80, 150, 300, 450, 600, 900, 2500, 5000]
#                                                                -> edges [60, 150, 450, 900]
# bin = 1 + number of edges strictly below the value (a value on an edge goes to the lower
# bin); R = 6 - bin.  F: 1 -> 1, 2 -> 3 (edges 1, 1 below), 3 and 4 -> 4, 8 and 12 -> 5.
#
# cust rec  freq  mon   R  F  M  FM=(F+M)//2  cell  segment
# c01    2   12  5000   5  5  5  5            555   champions
# c02    5    8  2500   5  5  5  5            555   champions        (rec 5 on edge -> R5)
# c03    5    1    40   5  1  1  1            511   new_customers
# c04   10    4   900   4  4  4  4            444   loyal_customers  (freq 4, mon 900 on edges)
# c05   15    2   300   4  3  3  3            433   potential_loyalists (rec 15 on edge -> R4)
# c06   30    1   150   3  1  2  1            312   about_to_sleep   (mon 150 on edge -> M2)
# c07   45    3   600   3  4  4  4            344   loyal_customers  (rec 45 on edge -> R3)
# c08   60    1    80   2  1  2  1            212   lost
# c09  120    2   450   2  3  3  3            233   at_risk          (rec 120, mon 450 on edges)
# c10  200    1    60   1  1  1  1            111   lost             (mon 60 on edge -> M1)
# c11  365    1    20   1  1  1  1            111   lost
# ---------------------------------------------------------------------------

FIXTURE = pd.DataFrame(
    {
        "recency": [2, 5, 5, 10, 15, 30, 45, 60, 120, 200, 365],
        "frequency": [12, 8, 1, 4, 2, 1, 3, 1, 2, 1, 1],
        "monetary": [5000.0, 2500, 40, 900, 300, 150, 600, 80, 450, 60, 20],
    },
    index=pd.Index([f"c{i:02d}" for i in range(1, 12)], name="customer_id"),
)
EXPECTED = pd.DataFrame(
    {
        "r_score": [5, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1],
        "f_score": [5, 5, 1, 4, 3, 1, 4, 1, 3, 1, 1],
        "m_score": [5, 5, 1, 4, 3, 2, 4, 2, 3, 1, 1],
        "rfm_score": ["555", "555", "511", "444", "433", "312", "344", "212", "233", "111", "111"],
        "fm_score": [5, 5, 1, 4, 3, 1, 4, 1, 3, 1, 1],
        "rfm_segment": [
            "champions",
            "champions",
            "new_customers",
            "loyal_customers",
            "potential_loyalists",
            "about_to_sleep",
            "loyal_customers",
            "lost",
            "at_risk",
            "lost",
            "lost",
        ],
    },
    index=FIXTURE.index,
)
RULE_KEYS = [rule.key for rule in DEFAULT_RULES]


def test_fixture_edges_are_the_hand_computed_quintiles():
    seg = RFMSegmenter().fit(FIXTURE)
    np.testing.assert_array_equal(seg.recency_edges_, [5, 15, 45, 120])
    np.testing.assert_array_equal(seg.frequency_edges_, [1, 1, 2, 4])
    np.testing.assert_array_equal(seg.monetary_edges_, [60, 150, 450, 900])


def test_fixture_scores_and_segments_match_hand_computation():
    out = RFMSegmenter().fit_predict(FIXTURE)
    assert list(out.columns) == list(SCORE_COLUMNS)
    pd.testing.assert_frame_equal(out[EXPECTED.columns], EXPECTED, check_dtype=False)
    assert out["r_score"].dtype == np.int64
    assert out.loc["c07", "rfm_segment_name"] == "Loyal Customers"
    assert out.loc["c01", "rfm_segment_name"] == "Champions"


def test_one_order_customers_get_f1_despite_massive_ties():
    # 60% of customers have one order: edges 1 and 1 coincide, score 2 stays empty.
    features = pd.DataFrame(
        {
            "recency": np.arange(10.0),
            "frequency": [1, 1, 1, 1, 1, 1, 2, 3, 5, 9],
            "monetary": np.arange(10.0),
        }
    )
    out = RFMSegmenter().fit_predict(features)
    assert (out.loc[features["frequency"] == 1, "f_score"] == 1).all()
    # q(0.6) = 1 + 0.4 * (2 - 1) = 1.4, q(0.8) = 3 + 0.2 * (5 - 3) = 3.4
    # -> edges [1, 1, 1.4, 3.4]: 2 and 3 orders -> 4, 5 and 9 orders -> 5.
    assert out["f_score"].tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_rfm_table_keeps_inputs_and_index_and_renamed_columns():
    renamed = FIXTURE.rename(columns={"recency": "R", "frequency": "F", "monetary": "M"})
    table = rfm_table(renamed, recency_col="R", frequency_col="F", monetary_col="M")
    assert list(table.columns) == ["R", "F", "M", *SCORE_COLUMNS]
    assert table.index.equals(FIXTURE.index)
    assert table["rfm_score"].tolist() == EXPECTED["rfm_score"].tolist()


def test_predict_new_customers_uses_fitted_edges():
    seg = RFMSegmenter().fit(FIXTURE)
    new = pd.DataFrame(
        {
            "recency": [0, 1000, 15, 46],
            "frequency": [50, 1, 2, 4],
            "monetary": [1e6, 1.0, 450.0, 901.0],
        },
        index=pd.Index(["n1", "n2", "n3", "n4"], name="customer_id"),
    )
    out = seg.predict(new)
    # Fitted edges: recency [5, 15, 45, 120], frequency [1, 1, 2, 4], monetary [60, 150, 450, 900].
    assert out["rfm_score"].tolist() == ["555", "111", "433", "245"]
    assert out["rfm_segment"].tolist() == ["champions", "lost", "potential_loyalists", "at_risk"]
    # Refitting on the new rows alone would give other edges: predict must not do that.
    assert seg.predict(new.iloc[[1]])["rfm_score"].item() == "111"


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("555", "champions"),
        ("554", "loyal_customers"),
        ("545", "loyal_customers"),
        ("355", "loyal_customers"),
        ("111", "lost"),
        ("155", "cant_lose_them"),
        ("154", "at_risk"),
        ("255", "at_risk"),
        ("511", "new_customers"),
        ("411", "promising"),
        ("533", "potential_loyalists"),
        ("422", "potential_loyalists"),
        ("333", "need_attention"),
        ("312", "about_to_sleep"),
        ("222", "hibernating"),
        ("212", "lost"),
        ("122", "lost"),
        ("133", "at_risk"),
        ("151", "at_risk"),  # F5 M1 -> FM 3
    ],
)
def test_chosen_cells_map_to_expected_segment(cell, key):
    r, f, m = (int(c) for c in cell)
    assert assign_segment(r, f, m).key == key


def test_all_125_cells_map_to_exactly_one_segment_and_all_11_reachable():
    grid = segment_grid()
    assert len(grid) == 125
    assert grid["rfm_score"].is_unique
    assert grid["rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    assert grid["rfm_segment"].notna().all()
    assert set(grid["rfm_segment"]) == set(RULE_KEYS)
    assert len(DEFAULT_RULES) == 11
    # the grid agrees cell by cell with the scalar function
    for row in grid.itertuples():
        assert assign_segment(row.r_score, row.f_score, row.m_score).key == row.rfm_segment
    # cells per segment on the 125-cell cube (FM = (F+M)//2 has 3, 7, 9, 5, 1 (F, M) pairs)
    sizes = grid["rfm_segment"].value_counts().to_dict()
    assert sizes == {
        "champions": 1,
        "loyal_customers": 17,  # R3-5 x FM4-5 = 3 * 6 - champions 1
        "potential_loyalists": 32,  # R4-5 x FM2-3 = 2 * 16
        "new_customers": 3,
        "promising": 3,
        "need_attention": 9,
        "about_to_sleep": 10,  # R3 x FM1-2 = 3 + 7
        "cant_lose_them": 1,
        "at_risk": 29,  # R1-2 x FM3-5 = 2 * 15 - cant_lose_them 1
        "hibernating": 7,
        "lost": 13,  # R1-2 x FM1-2 = 2 * 10 - hibernating 7
    }


def test_overlapping_published_boxes_are_resolved_by_order():
    # The three nested pairs of the published grid: each inner box must come first.
    order = {key: i for i, key in enumerate(RULE_KEYS)}
    for inner, outer in [
        ("champions", "loyal_customers"),
        ("cant_lose_them", "at_risk"),
        ("hibernating", "lost"),
    ]:
        assert order[inner] < order[outer]
    swapped = list(DEFAULT_RULES)
    i, j = order["cant_lose_them"], order["at_risk"]
    swapped[i], swapped[j] = swapped[j], swapped[i]
    with pytest.raises(ParameterError, match="cant_lose_them"):
        validate_rules(swapped)


def test_segment_actions_lists_every_rule_in_order():
    actions = segment_actions()
    assert actions["key"].tolist() == RULE_KEYS
    assert actions.loc[actions["key"] == "cant_lose_them", "name"].item() == "Can't Lose Them"
    assert actions["action"].str.len().min() > 40


def test_segment_sizes_counts_fixture_and_lists_empty_segments():
    sizes = segment_sizes(RFMSegmenter().fit_predict(FIXTURE)).set_index("key")
    assert sizes.index.tolist() == RULE_KEYS
    assert sizes.loc["lost", "customers"] == 3
    assert sizes.loc["champions", "customers"] == 2
    assert sizes.loc["hibernating", "customers"] == 0
    assert sizes["customers"].sum() == 11
    assert sizes.loc["lost", "share"] == pytest.approx(3 / 11)


def test_user_override_merging_and_custom_rules():
    # Merge Hibernating into Lost: R2 FM2 cells become lost.
    merged = tuple(rule for rule in DEFAULT_RULES if rule.key != "hibernating")
    assert assign_segment(2, 2, 2, merged).key == "lost"
    assert set(segment_grid(merged)["rfm_segment"]) == set(RULE_KEYS) - {"hibernating"}

    # A three-segment scheme with a catch-all, through the estimator.
    custom = (
        SegmentRule("active", "Active", r=(4, 5), fm=(1, 5), action="Keep them buying."),
        SegmentRule("valuable", "Valuable", r=(1, 3), fm=(4, 5), action="Call them back."),
        SegmentRule("other", "Other", r=(1, 5), fm=(1, 5), action="Newsletter only."),
    )
    out = RFMSegmenter(rules=custom).fit_predict(FIXTURE)
    # R: 5 5 5 4 4 3 3 2 2 1 1; FM: 5 5 1 4 3 1 4 1 3 1 1
    assert out["rfm_segment"].tolist() == ["active"] * 5 + [
        "other",
        "valuable",
        "other",
        "other",
        "other",
        "other",
    ]
    assert out["rfm_segment_name"].iloc[6] == "Valuable"


def test_rules_round_trip_through_records():
    records = [dataclasses.asdict(rule) for rule in DEFAULT_RULES]
    for record in records:  # as read from JSON: lists, not tuples
        record["r"], record["fm"] = list(record["r"]), list(record["fm"])
    assert rules_from_records(records) == DEFAULT_RULES
    with pytest.raises(ParameterError, match="missing fields"):
        rules_from_records([{"key": "x", "name": "X", "r": [1, 5], "fm": [1, 5]}])


def _rule(key="x", r=(1, 5), fm=(1, 5), name="X", action="Do something."):
    return SegmentRule(key=key, name=name, r=r, fm=fm, action=action)


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        ((), "empty"),
        (
            tuple(r for r in DEFAULT_RULES if r.key != "lost"),
            r"unmapped: R=1 FM=1 \(e\.g\. cell 111\)",
        ),
        ((_rule(r=(2, 5)),), "unmapped"),
        ((_rule(), _rule(key="y")), r"\['y'\] can never match"),
        ((_rule(), _rule()), "appears twice"),
        ((_rule(key="Bad Key"),), "snake_case"),
        ((_rule(r=(3, 2)),), "lo <= hi"),
        ((_rule(r=(0, 5)),), "lo <= hi"),
        ((_rule(fm=(1, 6)),), "lo <= hi"),
        ((_rule(fm=[1, 5]),), "tuple"),
        ((_rule(r=(1.0, 5.0)),), "tuple"),
        ((_rule(action=" "),), "empty action"),
        ((_rule(name=""),), "empty name"),
        (("champions",), "SegmentRule"),
        (DEFAULT_RULES[0], "sequence"),
    ],
)
def test_invalid_rules_raise_parameter_error(rules, match):
    with pytest.raises(ParameterError, match=match):
        validate_rules(rules)


def test_invalid_rules_are_rejected_at_fit_and_grid():
    no_lost = tuple(r for r in DEFAULT_RULES if r.key != "lost")
    with pytest.raises(ParameterError, match="unmapped"):
        RFMSegmenter(rules=no_lost).fit(FIXTURE)
    with pytest.raises(ParameterError, match="unmapped"):
        segment_grid(no_lost)
    with pytest.raises(ParameterError, match="no segment rule matches cell 111"):
        assign_segment(1, 1, 1, no_lost)


def test_default_rules_need_five_bins_custom_rules_allow_others():
    with pytest.raises(ParameterError, match="n_bins=4"):
        RFMSegmenter(n_bins=4).fit(FIXTURE)
    quartile_rules = (
        SegmentRule("best", "Best", r=(4, 4), fm=(4, 4), action="Reward them."),
        SegmentRule("rest", "Rest", r=(1, 4), fm=(1, 4), action="Newsletter only."),
    )
    out = RFMSegmenter(n_bins=4, rules=quartile_rules).fit_predict(FIXTURE)
    assert out[["r_score", "f_score", "m_score"]].isin([1, 2, 3, 4]).all().all()
    assert len(segment_grid(quartile_rules, n_bins=4)) == 64
    # quartiles: positions 2.5, 5, 7.5 -> monetary edges [70, 300, 750]
    np.testing.assert_allclose(
        RFMSegmenter(n_bins=4, rules=quartile_rules).fit(FIXTURE).monetary_edges_, [70, 300, 750]
    )


@pytest.mark.parametrize("n_bins", [1, 10, 5.0, True, "5"])
def test_bad_n_bins(n_bins):
    with pytest.raises(ParameterError, match="n_bins"):
        RFMSegmenter(n_bins=n_bins).fit(FIXTURE)


def test_input_errors():
    with pytest.raises(ColumnError, match="recency_col="):
        RFMSegmenter().fit(FIXTURE.drop(columns="recency"))
    with pytest.raises(DataError, match="1 missing or infinite"):
        RFMSegmenter().fit(
            FIXTURE.assign(monetary=FIXTURE["monetary"].where(FIXTURE.index != "c03"))
        )
    with pytest.raises(DataError, match="not numeric"):
        RFMSegmenter().fit(FIXTURE.assign(frequency=FIXTURE["frequency"].astype(str)))
    with pytest.raises(ParameterError, match="fewer than n_bins"):
        RFMSegmenter().fit(FIXTURE.head(4))
    with pytest.raises(ParameterError, match="DataFrame"):
        RFMSegmenter().fit(FIXTURE.to_numpy())
    fitted = RFMSegmenter().fit(FIXTURE)
    with pytest.raises(DataError, match="recency"):
        fitted.predict(FIXTURE.assign(recency=np.inf))


def test_estimator_conventions():
    seg = RFMSegmenter(n_bins=5, recency_col="R")
    assert seg.get_params()["recency_col"] == "R"
    assert not hasattr(seg, "recency_edges_")  # constructor only stores parameters
    seg = RFMSegmenter()
    assert seg.fit(FIXTURE) is seg


def test_combine_fm_is_rounded_down_mean():
    f, m = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    fm = combine_fm(f, m)
    assert fm.min() == 1 and fm.max() == 5
    assert combine_fm(5, 4) == 4 and combine_fm(1, 2) == 1 and combine_fm(5, 1) == 3
    # number of (F, M) pairs per FM value
    assert np.bincount(fm.ravel()).tolist() == [0, 3, 7, 9, 5, 1]


# ---------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------

# Small integer pools produce many ties, like real frequency and recency.
_values = st.one_of(
    st.integers(0, 6).map(float),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def feature_frames(draw, min_size=5, max_size=40):
    n = draw(st.integers(min_size, max_size))
    cols = {
        c: draw(hnp.arrays(np.float64, n, elements=_values))
        for c in ("recency", "frequency", "monetary")
    }
    return pd.DataFrame(cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@settings(max_examples=60, deadline=None)
@given(features=feature_frames(), seed=st.integers(0, 2**32 - 1))
def test_scores_in_range_and_row_order_changes_nothing(features, seed):
    out = RFMSegmenter().fit_predict(features)
    for col in ("r_score", "f_score", "m_score", "fm_score"):
        assert out[col].between(1, 5).all()
    assert set(out["rfm_segment"]) <= set(RULE_KEYS)
    # the lowest value of each variable lands in bin 1: F = 1, M = 1, and the most recent R = 5
    assert (out.loc[features["frequency"] == features["frequency"].min(), "f_score"] == 1).all()
    assert (out.loc[features["monetary"] == features["monetary"].min(), "m_score"] == 1).all()
    assert (out.loc[features["recency"] == features["recency"].min(), "r_score"] == 5).all()
    # ties share a score
    assert (out.groupby(features["monetary"])["m_score"].nunique() == 1).all()

    shuffled = features.sample(frac=1, random_state=seed % (2**32))
    out_shuffled = RFMSegmenter().fit_predict(shuffled)
    pd.testing.assert_frame_equal(out_shuffled.loc[out.index], out)


@settings(max_examples=60, deadline=None)
@given(features=feature_frames())
def test_scores_are_monotone_within_a_fit(features):
    out = RFMSegmenter().fit_predict(features)
    for col, score, sign in (
        ("monetary", "m_score", 1),
        ("frequency", "f_score", 1),
        ("recency", "r_score", -1),
    ):
        order = np.argsort(sign * features[col].to_numpy(), kind="stable")
        assert np.all(np.diff(out[score].to_numpy()[order]) >= 0)


@settings(max_examples=60, deadline=None)
@given(
    features=feature_frames(),
    row=st.integers(0, 4),
    extra=st.floats(0, 1e6, allow_nan=False),
)
def test_more_monetary_or_more_recent_never_lowers_score_on_predict(features, row, extra):
    seg = RFMSegmenter().fit(features)
    base = seg.predict(features)
    richer = features.copy()
    richer.iloc[row, richer.columns.get_loc("monetary")] += extra
    assert seg.predict(richer)["m_score"].iloc[row] >= base["m_score"].iloc[row]
    fresher = features.copy()
    fresher.iloc[row, fresher.columns.get_loc("recency")] -= extra
    assert seg.predict(fresher)["r_score"].iloc[row] >= base["r_score"].iloc[row]
    # predict is row-wise: other rows keep their scores
    others = np.arange(len(features)) != row
    pd.testing.assert_frame_equal(seg.predict(richer)[others], base[others])


_NESTED = [("champions", "loyal_customers"), ("cant_lose_them", "at_risk"), ("hibernating", "lost")]


@settings(max_examples=80, deadline=None)
@given(order=st.permutations(range(len(DEFAULT_RULES))))
def test_any_reordering_is_valid_iff_inner_boxes_come_first(order):
    rules = tuple(DEFAULT_RULES[i] for i in order)
    pos = {rule.key: i for i, rule in enumerate(rules)}
    ok = all(pos[inner] < pos[outer] for inner, outer in _NESTED)
    if ok:
        grid = segment_grid(rules)
        # the boxes are otherwise disjoint, so any valid order gives the same map
        assert grid["rfm_segment"].tolist() == segment_grid()["rfm_segment"].tolist()
    else:
        with pytest.raises(ParameterError, match="can never match"):
            validate_rules(rules)


def test_every_cell_tuple_is_covered_by_some_rule_box():
    # Independent of ordering: the union of the boxes is the whole (R, FM) grid.
    covered = {
        (r, fm)
        for rule in DEFAULT_RULES
        for r, fm in itertools.product(
            range(rule.r[0], rule.r[1] + 1), range(rule.fm[0], rule.fm[1] + 1)
        )
    }
    assert covered == set(itertools.product(range(1, 6), range(1, 6)))
