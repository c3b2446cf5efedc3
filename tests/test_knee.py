"""custseg.knee gives kneed's answers (kneed is the reference, imported only here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.knee import difference_curve, find_knee

kneed = pytest.importorskip("kneed")

SHAPES = [
    ("convex", "decreasing"),
    ("convex", "increasing"),
    ("concave", "decreasing"),
    ("concave", "increasing"),
]


def test_elbow_of_a_hand_made_inertia_curve():
    # Scaled: x = (k-1)/5 and, turned increasing, y = (100 - inertia)/90, so the
    # difference y - x is 0, .467, .489, .344, .178, 0: its maximum is at k=3, and it
    # falls below .489 - 1.0 x 0.2 (the mean x step) = .289 at k=5: the elbow is k=3.
    assert find_knee([1, 2, 3, 4, 5, 6], [100, 40, 20, 15, 12, 10]) == 3.0


def test_no_knee_on_a_straight_line_or_a_flat_or_short_curve():
    assert find_knee([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]) is None
    assert find_knee([1, 2, 3, 4], [2, 2, 2, 2]) is None
    assert find_knee([1, 2], [5, 1]) is None


curves = st.integers(min_value=3, max_value=40).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(min_value=0.01, max_value=100, allow_nan=False), min_size=n, max_size=n),
        st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=n, max_size=n),
    )
)


@settings(max_examples=300)
@given(curves, st.sampled_from(SHAPES), st.sampled_from([0.5, 1.0, 2.0]))
def test_same_knee_as_kneed_on_any_curve(xy, shape, s):
    steps, y = xy
    x = np.cumsum(steps)  # strictly increasing x, uneven steps
    y = np.asarray(y)
    if np.ptp(y) == 0:
        return
    curve, direction = shape
    ref = kneed.KneeLocator(x, y, S=s, curve=curve, direction=direction)
    got = find_knee(x, y, curve=curve, direction=direction, sensitivity=s)
    assert got == (None if ref.knee is None else float(ref.knee))
    xd, yd = difference_curve(x, y, curve=curve, direction=direction)
    np.testing.assert_array_equal(xd, ref.x_difference)
    np.testing.assert_array_equal(yd, ref.y_difference)


@pytest.mark.parametrize("shape", SHAPES)
def test_same_knee_as_kneed_on_smooth_monotone_curves(shape):
    curve, direction = shape
    rng = np.random.default_rng(7)
    for _ in range(50):
        x = np.arange(2, 11, dtype=float)
        base = np.exp(-rng.uniform(0.2, 1.5) * x) + rng.normal(0, 0.01, x.size)
        y = {
            ("convex", "decreasing"): base,
            ("convex", "increasing"): base[::-1],
            ("concave", "decreasing"): -base[::-1],
            ("concave", "increasing"): -base,
        }[shape]
        ref = kneed.KneeLocator(x, y, curve=curve, direction=direction)
        assert find_knee(x, y, curve=curve, direction=direction) == (
            None if ref.knee is None else float(ref.knee)
        )
