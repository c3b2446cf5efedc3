"""Atypical customers inside clusters: hand-computed z, planted outliers, degenerate scales."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tests_support import REAL, pandas_rfm

from custseg.errors import ColumnError, DataError, ParameterError
from custseg.outliers import MAD_TO_SIGMA, OutlierDetector, flag_outliers

REAL_DATA = REAL
COLS = ["recency", "frequency", "monetary"]
CENTRES = np.array([[-3.0, 2.0, 2.0], [3.0, -2.0, -2.0], [0.0, 0.0, 0.0]])


def _clusters(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Three clusters, uniform within +-1 around their centre: nobody is atypical.

    For a uniform(-1, 1) sample the MAD is about 0.5, so the largest possible robust z
    is about 1 / (1.4826 * 0.5) = 1.35, far below 3.5.
    """
    rng = np.random.default_rng(seed)
    values = np.concatenate([c + rng.uniform(-1, 1, (n, 3)) for c in CENTRES])
    index = pd.Index([f"c{i:05d}" for i in range(len(values))], name="customer_id")
    labels = pd.Series(np.repeat([0, 1, 2], n), index=index, name="kmeans")
    return pd.DataFrame(values, index=index, columns=COLS), labels


def test_hand_computed_robust_z():
    X = pd.DataFrame({"monetary": [1.0, 2.0, 3.0, 4.0, 100.0, 10.0, 10.0, 11.0, 12.0, 13.0]})
    labels = np.array([0] * 5 + [1] * 5)
    det = OutlierDetector().fit(X, labels)
    # Cluster 0: median 3, |x - 3| = 2, 1, 0, 1, 97 -> MAD 1.
    # Cluster 1: median 11, |x - 11| = 1, 1, 0, 1, 2 -> MAD 1.
    assert det.medians_["monetary"].tolist() == [3.0, 11.0]
    assert det.scales_["monetary"].tolist() == [MAD_TO_SIGMA, MAD_TO_SIGMA]
    assert det.scale_source_["monetary"].tolist() == ["mad", "mad"]
    z = det.robust_z(X, labels)["monetary"].to_numpy()
    assert z[4] == pytest.approx(97 / 1.4826)
    assert z[0] == pytest.approx(-2 / 1.4826)
    flags = det.flag(X, labels)
    assert flags["is_outlier"].tolist() == [False] * 4 + [True] + [False] * 5
    assert flags.loc[4, "outlier_score"] == pytest.approx(65.425, abs=1e-3)
    assert flags.loc[4, "outlier_reason"] == "monetary far above its cluster (robust z = 65.4)"
    assert flags.loc[0, "outlier_reason"] == ""
    assert flags.loc[0, "outlier_score"] == pytest.approx(2 / 1.4826)


def test_planted_extremes_flagged_with_feature_and_direction():
    X, labels = _clusters()
    X.iloc[5, 2] = CENTRES[0, 2] + 8.0  # cluster 0, monetary far above
    X.iloc[250, 0] = CENTRES[1, 0] - 6.0  # cluster 1, recency far below (much more recent)
    X.iloc[450, 1] = CENTRES[2, 1] + 5.0  # cluster 2, frequency far above
    flags = flag_outliers(X, labels)
    flagged = flags[flags["is_outlier"]]
    assert flagged.index.tolist() == ["c00005", "c00250", "c00450"]
    assert flagged["outlier_feature"].tolist() == ["monetary", "recency", "frequency"]
    assert flagged["outlier_direction"].tolist() == ["high", "low", "high"]
    assert (
        flagged["outlier_reason"].iloc[0].startswith("monetary far above its cluster (robust z = ")
    )
    assert flagged["outlier_reason"].iloc[1].startswith("recency far below its cluster")
    assert (flagged["outlier_score"] > 3.5).all()
    ordinary = flags[~flags["is_outlier"]]
    assert (ordinary["outlier_score"] < 2.0).all()
    assert (ordinary["outlier_feature"] == "").all()
    assert (ordinary["outlier_direction"] == "").all()
    assert (ordinary["outlier_reason"] == "").all()
    # z is about 8 / (1.4826 * 0.5) = 10.8 (MAD of a uniform(-1, 1) sample is about 0.5).
    assert flags.loc["c00005", "outlier_score"] == pytest.approx(10.8, abs=1.0)


def test_normal_clusters_give_few_false_alarms():
    rng = np.random.default_rng(1)
    values = np.concatenate([c + rng.normal(0, 1, (2000, 3)) for c in CENTRES])
    X = pd.DataFrame(values, columns=COLS)
    labels = np.repeat([0, 1, 2], 2000)
    flags = flag_outliers(X, labels)
    # Gaussian tails: P(max of 3 |z| > 3.5) is about 0.14 %.
    assert flags["is_outlier"].mean() < 0.005


def test_features_subset_and_threshold():
    X, labels = _clusters()
    X.iloc[5, 2] = CENTRES[0, 2] + 8.0  # robust z about 8 / (1.4826 * 0.5) = 10.8
    X.iloc[6, 0] = CENTRES[0, 0] + 3.5  # robust z about 3.5 / (1.4826 * 0.5) = 4.7
    assert flag_outliers(X, labels)["is_outlier"].sum() == 2
    assert flag_outliers(X, labels, threshold=6)["is_outlier"].sum() == 1
    only_recency = flag_outliers(X, labels, features=["recency"])
    assert only_recency.index[only_recency["is_outlier"]].tolist() == ["c00006"]


def test_zero_mad_falls_back_without_flagging_everyone():
    # Cluster 0: 6 of 10 share the value 0 -> MAD = 0, IQR > 0.
    # Cluster 1: 9 of 10 share the value 5 -> MAD = IQR = 0 -> global scale.
    # Feature "flat" is constant for everyone -> infinite scale, z = 0.
    a = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2]
    b = [5] * 9 + [6]
    X = pd.DataFrame({"x": np.array(a + b, dtype=float), "flat": 7.0})
    labels = np.repeat([0, 1], 10)
    det = OutlierDetector().fit(X, labels)
    assert det.scale_source_["x"].tolist() == ["iqr", "global"]
    assert det.scale_source_["flat"].tolist() == ["constant", "constant"]
    # Cluster 0: quartiles 0 and 1 (linear interpolation) -> IQR / 1.349.
    assert det.scales_.loc[0, "x"] == pytest.approx(1 / 1.349)
    # Global: median of all 20 values is (2 + 5) / 2 = 3.5; |x - 3.5| is 1.5 eleven
    # times, 2.5 three times, 3.5 six times -> MAD = 1.5, scale 1.4826 * 1.5.
    assert det.global_scale_["x"] == pytest.approx(1.4826 * 1.5)
    assert det.scales_.loc[1, "x"] == pytest.approx(1.4826 * 1.5)
    z = det.robust_z(X, labels)
    assert np.isfinite(z.to_numpy()).all()
    assert (z["flat"] == 0).all()
    flags = det.flag(X, labels)
    # Cluster 0: the two 2s have z = 2 * 1.349 = 2.7; cluster 1: the 6 has 1 / 2.22.
    assert not flags["is_outlier"].any()
    assert np.isfinite(flags["outlier_score"]).all()


def test_single_customer_cluster_is_not_flagged():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 50.0]})
    flags = flag_outliers(X, [0, 0, 0, 0, 1])
    assert not flags["is_outlier"].any()
    assert flags.loc[4, "outlier_score"] == 0.0


def test_noise_is_skipped_unless_asked():
    X, labels = _clusters(n=50)
    labels = labels.copy()
    labels.iloc[:20] = -1
    X.iloc[0, 2] += 50.0  # noise customer with an extreme value
    flags = flag_outliers(X, labels)
    assert not flags["is_outlier"].iloc[:20].any()
    assert flags["outlier_score"].iloc[:20].isna().all()
    assert (flags["outlier_reason"].iloc[:20] == "").all()
    assert flags["outlier_score"].iloc[20:].notna().all()
    det = OutlierDetector().fit(X, labels)
    assert -1 not in det.classes_
    # noise_label=None: -1 is an ordinary group of 20 with one extreme member.
    as_group = flag_outliers(X, labels, noise_label=None)
    assert as_group.index[as_group["is_outlier"]].tolist() == ["c00000"]
    assert as_group["outlier_feature"].iloc[0] == "monetary"
    with pytest.raises(DataError, match="every customer is noise"):
        flag_outliers(X, pd.Series(-1, index=X.index))


def test_detector_predicts_new_customers():
    X, labels = _clusters()
    det = OutlierDetector(threshold=3.5).fit(X, labels)
    assert det.fit(X, labels) is det
    assert det.n_features_in_ == 3 and det.feature_names_in_.tolist() == COLS
    assert det.classes_.tolist() == [0, 1, 2]
    new = pd.DataFrame(
        [[-3.0, 2.0, 2.0], [-3.0, 2.0, 9.0], [3.0, -2.0, -2.0], [3.0, 4.0, -2.0]],
        columns=COLS,
        index=pd.Index(["n1", "n2", "n3", "n4"], name="customer_id"),
    )
    new_labels = pd.Series([0, 0, 1, 1], index=new.index)
    assert det.predict(new, new_labels).tolist() == [False, True, False, True]
    flags = det.flag(new, new_labels)
    assert flags["outlier_feature"].tolist() == ["", "monetary", "", "frequency"]
    assert flags["outlier_direction"].tolist() == ["", "high", "", "high"]
    with pytest.raises(ParameterError, match="not seen"):
        det.predict(new, pd.Series([0, 0, 1, 9], index=new.index))


def test_errors():
    X, labels = _clusters(n=20)
    with pytest.raises(ParameterError, match="not fitted"):
        OutlierDetector().flag(X, labels)
    with pytest.raises(ParameterError, match="positive"):
        OutlierDetector(threshold=-1).fit(X, labels)
    with pytest.raises(ParameterError, match="not a number"):
        OutlierDetector(threshold="3").fit(X, labels)
    with pytest.raises(ColumnError, match="'tenure'"):
        flag_outliers(X, labels, features=["tenure"])
    bad = X.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(DataError, match="missing or infinite"):
        flag_outliers(bad, labels)
    with pytest.raises(DataError, match="do not match"):
        flag_outliers(X, labels.iloc[1:])
    with pytest.raises(DataError, match="pandas DataFrame"):
        flag_outliers(X.to_numpy(), labels)
    # Construction only stores parameters, even invalid ones.
    assert OutlierDetector(threshold=-1).threshold == -1


@settings(max_examples=40, deadline=None)
@given(
    # Values on a 1e-6 grid: x * scale + shift must not absorb a difference (1e-158 + 1.0
    # == 1.0 makes a feature constant, and its z 0, for floating-point reasons alone).
    arrays(np.float64, (30, 2), elements=st.floats(-100, 100).map(lambda v: round(v, 6))),
    st.lists(st.integers(0, 2), min_size=30, max_size=30),
    st.permutations(range(30)),
    st.floats(0.1, 10),
    st.floats(-50, 50),
)
def test_property_order_and_affine_invariance(values, labels, order, scale, shift):
    X = pd.DataFrame(values, columns=["a", "b"], index=[f"c{i:02d}" for i in range(30)])
    lab = pd.Series(labels, index=X.index)
    flags = flag_outliers(X, lab)
    # Row order changes nothing.
    shuffled = flag_outliers(X.iloc[order], lab.iloc[order]).loc[X.index]
    pd.testing.assert_frame_equal(flags, shuffled)
    # The robust z does not depend on the unit or origin of a feature.
    z = OutlierDetector().fit(X, lab).robust_z(X, lab)
    Xt = X * scale + shift
    zt = OutlierDetector().fit(Xt, lab).robust_z(Xt, lab)
    np.testing.assert_allclose(zt.to_numpy(), z.to_numpy(), rtol=1e-6, atol=1e-6)
    assert np.isfinite(flags["outlier_score"]).all()


# ------------------------------------------------------------------ real dataset


@pytest.mark.skipif(not REAL_DATA.exists(), reason="real dataset not available")
def test_real_dataset_kmeans4_outliers():
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    features = pandas_rfm(REAL_DATA)
    X = pd.DataFrame(
        StandardScaler().fit_transform(np.log1p(features)),
        index=features.index,
        columns=features.columns,
    )
    labels = pd.Series(KMeans(4, random_state=0, n_init=10).fit(X).labels_, index=X.index)
    flags = flag_outliers(X, labels)
    size = labels.value_counts()
    per_cluster = flags.groupby(labels.map(size))["is_outlier"].sum().to_dict()
    # Keyed by cluster size: 713 high-value loyal, 1187 at-risk, 1626 lapsed, 812 recent.
    assert per_cluster == {713: 25, 1187: 5, 1626: 14, 812: 9}
    assert flags["is_outlier"].sum() == 53
    # The largest spender (280,206) is flagged on monetary inside its cluster.
    top = flags.loc["14646"]
    assert (top["is_outlier"], top["outlier_feature"], top["outlier_direction"]) == (
        True,
        "monetary",
        "high",
    )
    assert top["outlier_reason"] == "monetary far above its cluster (robust z = 6.0)"
