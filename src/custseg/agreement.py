"""Agreement between segmentations: cross-table and adjusted Rand index.

DBSCAN noise (label ``-1``) is compared as a label of its own: all noise customers
form one group. Two methods therefore agree on noise only if the other method also
puts those customers together.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from custseg.errors import DataError, ParameterError
from custseg.profiles import align_labels

__all__ = ["adjusted_rand", "crosstab"]


def _reference_index(labels: pd.Series | Sequence | np.ndarray) -> pd.Index:
    if isinstance(labels, pd.Series):
        return labels.index
    return pd.RangeIndex(len(np.asarray(labels)))


def crosstab(
    labels_a: pd.Series | Sequence | np.ndarray,
    labels_b: pd.Series | Sequence | np.ndarray,
) -> pd.DataFrame:
    """Number of customers in each pair (segment of A, segment of B).

    Parameters
    ----------
    labels_a, labels_b : Series or array-like
        Two labellings of the same customers (Series are matched on their index;
        arrays are taken in order and must have the same length).

    Returns
    -------
    DataFrame
        Counts (int64), index = the sorted labels of A, columns = the sorted labels of
        B; the axis names are the Series names (``"a"``/``"b"`` when unnamed). Every
        label present appears, so row sums are the sizes of A's segments.

    Raises
    ------
    DataError
        The two labellings do not cover the same customers, or a label is missing.
    """
    index = _reference_index(labels_a)
    if index.empty:
        raise DataError("the labellings hold no customer", fix="check the cleaning step")
    a = align_labels(labels_a, index)
    b = align_labels(labels_b, index)
    name_a = labels_a.name if isinstance(labels_a, pd.Series) and labels_a.name else "a"
    name_b = labels_b.name if isinstance(labels_b, pd.Series) and labels_b.name else "b"
    if name_a == name_b:
        name_a, name_b = f"{name_a}_a", f"{name_b}_b"
    table = pd.crosstab(a.rename(name_a), b.rename(name_b))
    return table.astype("int64")


def adjusted_rand(labels: Mapping[str, pd.Series | Sequence | np.ndarray]) -> pd.DataFrame:
    """Adjusted Rand index between every pair of labellings.

    Parameters
    ----------
    labels : mapping of str to Series or array-like
        Method name to its labels, all on the same customers. DBSCAN noise (``-1``)
        is treated as one label of its own.

    Returns
    -------
    DataFrame
        Columns ``method_a``, ``method_b``, ``ari`` (``sklearn.metrics.
        adjusted_rand_score``: 1 = same partition up to renaming, about 0 = chance
        agreement, negative = worse than chance), one row per unordered pair in the
        order of the mapping. Empty when fewer than two methods are given.

    Raises
    ------
    DataError
        The labellings do not cover the same customers, or a label is missing.
    """
    if not isinstance(labels, Mapping):
        raise ParameterError(
            "adjusted_rand expects a mapping of method name to labels",
            fix="pass a dict such as {'kmeans': km_labels, 'rfm': rfm_labels}",
        )
    names = list(labels)
    if len(names) < 2:
        return pd.DataFrame(
            {
                "method_a": pd.Series([], dtype=object),
                "method_b": pd.Series([], dtype=object),
                "ari": pd.Series([], dtype="float64"),
            }
        )
    index = _reference_index(labels[names[0]])
    if index.empty:
        raise DataError("the labellings hold no customer", fix="check the cleaning step")
    # Factorise once per method: sklearn then works on small ints whatever the dtype.
    codes = {name: pd.factorize(align_labels(labels[name], index))[0] for name in names}
    rows = [
        (a, b, float(adjusted_rand_score(codes[a], codes[b])))
        for a, b in itertools.combinations(names, 2)
    ]
    return pd.DataFrame(rows, columns=["method_a", "method_b", "ari"])
