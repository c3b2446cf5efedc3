"""Knee (elbow) detection: the Kneedle algorithm, as kneed 0.9 computes it.

Satopää et al., "Finding a 'Kneedle' in a Haystack" (2011), in the offline form
that ``kneed.KneeLocator(x, y, S, curve, direction)`` implements with its default
``interp_method="interp1d"`` (no smoothing): both axes are scaled to [0, 1], the
curve is turned into an increasing concave one, the difference curve
``y - x`` is formed, and the knee is the first local maximum of that curve after
which it drops below the maximum minus ``S`` times the mean step of x, before any
local minimum.

Why not import kneed: importing it loads ``matplotlib.pyplot`` (which selects a
backend, a piece of global state) and ``scipy.signal``, about 1.2 s of start-up
on the 2-core reference machine, a quarter of the time `custseg run` is allowed
on the real dataset, for some thirty lines of arithmetic. kneed stays the
reference: ``tests/test_knee.py`` checks that these functions give kneed's
answer on random and on the real curves.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["difference_curve", "find_knee"]

Curve = Literal["convex", "concave"]
Direction = Literal["increasing", "decreasing"]


def _scaled(a: np.ndarray) -> np.ndarray:
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo)


def difference_curve(
    x: np.ndarray, y: np.ndarray, *, curve: Curve, direction: Direction
) -> tuple[np.ndarray, np.ndarray]:
    """Kneedle's normalised difference curve (kneed's ``x_difference, y_difference``).

    Parameters
    ----------
    x, y : array-like of float, same length (at least 2), x increasing
        The curve. Neither may be constant.
    curve : {"convex", "concave"}
    direction : {"increasing", "decreasing"}

    Returns
    -------
    x_difference, y_difference : ndarray
        Position ``i`` of the difference curve is position ``i`` of the input for
        (decreasing, convex) and (increasing, concave), and position ``n-1-i``
        for the two mirrored cases.
    """
    if curve not in ("convex", "concave") or direction not in ("increasing", "decreasing"):
        raise ValueError(f"unknown curve/direction: {curve!r}, {direction!r}")
    xn = _scaled(np.asarray(x, dtype=float))
    yn = _scaled(np.asarray(y, dtype=float))
    # Turn every shape into an increasing concave one.
    if direction == "decreasing":
        yn = yn[::-1] if curve == "concave" else yn.max() - yn
    elif curve == "convex":
        yn = (yn.max() - yn)[::-1]
    if (direction, curve) in (("decreasing", "concave"), ("increasing", "convex")):
        xn = (1.0 - xn)[::-1]
    return xn.copy(), yn - xn


def _local_extrema(d: np.ndarray, greater: bool) -> np.ndarray:
    """Positions not beaten by either neighbour (the ends compare with themselves)."""
    prev = np.concatenate([d[:1], d[:-1]])
    nxt = np.concatenate([d[1:], d[-1:]])
    mask = (d >= prev) & (d >= nxt) if greater else (d <= prev) & (d <= nxt)
    return np.flatnonzero(mask)


def find_knee(
    x: np.ndarray,
    y: np.ndarray,
    *,
    curve: Curve = "convex",
    direction: Direction = "decreasing",
    sensitivity: float = 1.0,
) -> float | None:
    """The knee of a curve, or None when Kneedle finds none.

    Parameters
    ----------
    x, y : array-like of float, same length, x increasing
        The curve (e.g. k against K-means inertia).
    curve : {"convex", "concave"}, default "convex"
        ``"convex"`` finds elbows.
    direction : {"increasing", "decreasing"}, default "decreasing"
    sensitivity : float, default 1.0
        Kneedle's ``S``: how far (in mean x steps) the difference curve must
        fall below a local maximum to call it a knee.

    Returns
    -------
    float or None
        The x value of the knee, as ``kneed.KneeLocator(...).knee`` gives it.
        None also for curves too short (fewer than 3 points) or flat on an axis.

    Examples
    --------
    >>> find_knee([1, 2, 3, 4, 5, 6], [100, 40, 20, 15, 12, 10])
    3.0
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError("x and y must be 1-D and of the same length")
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    xd, yd = difference_curve(xs, ys, curve=curve, direction=direction)
    maxima = _local_extrema(yd, greater=True)
    if not maxima.size:
        return None
    is_max = np.zeros(yd.size, dtype=bool)
    is_max[maxima] = True
    is_min = np.zeros(yd.size, dtype=bool)
    is_min[_local_extrema(yd, greater=False)] = True
    thresholds = yd[maxima] - sensitivity * abs(np.diff(xd).mean())

    n_max_seen = 0
    threshold, at = 0.0, int(maxima[0])
    active = True
    for i in range(int(maxima[0]), yd.size - 1):
        if is_max[i]:
            threshold, at = float(thresholds[n_max_seen]), i
            n_max_seen += 1
            active = True
        if is_min[i]:
            threshold = 0.0
            active = False
        if active and yd[i + 1] < threshold:
            mirrored = (curve == "convex") == (direction == "increasing")
            return float(xs[-(at + 1)] if mirrored else xs[at])
    return None
