"""Cross-table and adjusted Rand index between segmentations, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.agreement import adjusted_rand, crosstab
from custseg.errors import DataError, ParameterError

IDX = pd.Index([f"c{i}" for i in range(6)], name="customer_id")


def test_crosstab_hand_counted():
    km = pd.Series([0, 0, 1, 1, 2, 0], index=IDX, name="kmeans")
    rfm = pd.Series(["champions", "lost", "lost", "lost", "champions", "champions"], index=IDX)
    rfm.name = "rfm"
    table = crosstab(km, rfm)
    expected = pd.DataFrame(
        [[2, 1], [0, 2], [1, 0]],
        index=pd.Index([0, 1, 2], name="kmeans"),
        columns=pd.Index(["champions", "lost"], name="rfm"),
    )
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    assert table.to_numpy().dtype == np.int64
    # Row sums are the K-means cluster sizes.
    assert table.sum(axis=1).tolist() == [3, 2, 1]


def test_crosstab_matches_on_index_and_names_axes():
    a = pd.Series([0, 0, 1, 1, -1, -1], index=IDX)
    b = pd.Series([5, 5, 6, 6, 7, 7], index=IDX).iloc[::-1]  # other order, same customers
    table = crosstab(a, b)
    assert table.index.name == "a" and table.columns.name == "b"
    assert table.index.tolist() == [-1, 0, 1]
    assert table.to_numpy().tolist() == [[0, 0, 2], [2, 0, 0], [0, 2, 0]]
    # Same-named Series keep distinct axis names.
    same = crosstab(a.rename("segment"), b.rename("segment"))
    assert (same.index.name, same.columns.name) == ("segment_a", "segment_b")


def test_crosstab_errors():
    a = pd.Series([0, 1, 0, 1, 0, 1], index=IDX)
    with pytest.raises(DataError, match="do not match"):
        crosstab(a, a.iloc[:5])
    with pytest.raises(DataError, match="got 3 labels"):
        crosstab(a, [0, 1, 2])
    with pytest.raises(DataError, match="no customer"):
        crosstab(a.iloc[:0], a.iloc[:0])


def test_ari_identical_and_permuted_labels_are_one():
    km = pd.Series([0, 0, 1, 1, 2, 2], index=IDX)
    renamed = km.map({0: "b", 1: "c", 2: "a"})
    out = adjusted_rand({"kmeans": km, "copy": km, "renamed": renamed})
    assert out[["method_a", "method_b"]].values.tolist() == [
        ["kmeans", "copy"],
        ["kmeans", "renamed"],
        ["copy", "renamed"],
    ]
    assert out["ari"].tolist() == [1.0, 1.0, 1.0]


def test_ari_hand_computed():
    # Contingency [[2, 1, 0], [0, 1, 2]]: sum C(n_ij, 2) = 2, rows 3 + 3 = 6, columns
    # 1 + 1 + 1 = 3, C(6, 2) = 15; expected 6 * 3 / 15 = 1.2, max (6 + 3) / 2 = 4.5;
    # ARI = (2 - 1.2) / (4.5 - 1.2) = 8 / 33.
    a = pd.Series([0, 0, 0, 1, 1, 1], index=IDX)
    b = pd.Series([0, 0, 1, 1, 2, 2], index=IDX)
    out = adjusted_rand({"a": a, "b": b})
    assert out["ari"].item() == pytest.approx(8 / 33)


def test_dbscan_noise_is_its_own_label():
    dbscan = pd.Series([0, 0, 1, 1, -1, -1], index=IDX)
    # The other method also groups the two noise customers together: perfect agreement.
    together = pd.Series([3, 3, 4, 4, 5, 5], index=IDX)
    # Here the noise customers are split between the two clusters: noise is still one
    # group, so agreement drops: contingency [[2, 0], [0, 2], [1, 1]], sum C(n_ij, 2) = 2,
    # rows 1 + 1 + 1 = 3, columns 3 + 3 = 6, ARI = (2 - 1.2) / (4.5 - 1.2) = 8 / 33
    # (noise as singletons would have given 0.375 instead).
    split = pd.Series([3, 3, 4, 4, 3, 4], index=IDX)
    out = adjusted_rand({"dbscan": dbscan, "together": together, "split": split})
    ari = out.set_index(["method_a", "method_b"])["ari"]
    assert ari["dbscan", "together"] == 1.0
    assert ari["dbscan", "split"] == pytest.approx(8 / 33)


def test_ari_edge_cases_and_errors():
    a = pd.Series([0, 1, 0, 1, 0, 1], index=IDX)
    one = adjusted_rand({"a": a})
    assert one.empty and list(one.columns) == ["method_a", "method_b", "ari"]
    with pytest.raises(DataError, match="do not match"):
        adjusted_rand({"a": a, "b": a.iloc[:4]})
    with pytest.raises(ParameterError, match="mapping"):
        adjusted_rand([a, a])
    # Arrays follow the order of the first labelling.
    out = adjusted_rand({"a": a, "b": np.array([7, 8, 7, 8, 7, 8])})
    assert out["ari"].item() == 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-1, 3), min_size=2, max_size=30).flatmap(
        lambda a: st.tuples(
            st.just(a),
            st.lists(st.sampled_from(["x", "y", "z"]), min_size=len(a), max_size=len(a)),
            st.permutations(range(len(a))),
        )
    )
)
def test_property_ari_symmetric_relabel_and_order_invariant(case):
    a_list, b_list, order = case
    index = pd.Index([f"c{i:02d}" for i in range(len(a_list))])
    a = pd.Series(a_list, index=index)
    b = pd.Series(b_list, index=index)
    ari = adjusted_rand({"a": a, "b": b})["ari"].item()
    assert adjusted_rand({"b": b, "a": a})["ari"].item() == pytest.approx(ari)
    assert adjusted_rand({"a": a + 10, "b": b})["ari"].item() == pytest.approx(ari)
    assert adjusted_rand({"a": a.iloc[order], "b": b})["ari"].item() == pytest.approx(ari)
    table = crosstab(a, b.iloc[order])
    assert table.to_numpy().sum() == len(a)
    pd.testing.assert_frame_equal(table, crosstab(a.iloc[order], b))
