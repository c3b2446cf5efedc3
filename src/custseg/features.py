"""Per-customer features (task 2) and their transformation for clustering.

Features are aggregated in DuckDB from the ``clean_lines`` and ``return_lines``
views (see :mod:`custseg.cleaning`), so the per-customer table is built
out-of-core whatever the number of lines; only the result (one row per
customer) comes back as a pandas DataFrame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from custseg import schema as S
from custseg.errors import DataError, ParameterError

FEATURE_DESCRIPTIONS = {
    S.RECENCY: "whole days from the last purchase to the snapshot date",
    S.FREQUENCY: "number of distinct orders (invoices)",
    S.MONETARY: "total spend (sum of kept line totals; minus returns with --returns net)",
    S.TENURE: "whole days from the first purchase to the snapshot date",
    S.AVG_ORDER_VALUE: "monetary / frequency",
    S.ITEMS_PER_ORDER: "units bought / frequency",
    S.DISTINCT_PRODUCTS: "number of distinct stock codes bought",
    S.RETURN_RATE: "value of cancelled lines / value of purchases, capped at 1",
}


def default_snapshot(con: duckdb.DuckDBPyConnection, view: str = "lines") -> dt.date:
    """The day after the last invoice date in ``view``."""
    last = con.execute(f"SELECT max({S.INVOICE_DATE}) FROM {view}").fetchone()[0]
    if last is None:
        raise DataError("no dated line in the input", fix="check the date column")
    return (pd.Timestamp(last).normalize() + pd.Timedelta(days=1)).date()


def customer_features_sql(
    snapshot: dt.date,
    *,
    net_returns: bool = False,
    clean: str = "clean_lines",
    returns: str = "return_lines",
    customer_key: bool = False,
    columns: Sequence[str] | None = None,
) -> str:
    """The SQL query that builds the per-customer feature table.

    Parameters
    ----------
    snapshot : date
        Reference date for recency and tenure.
    net_returns : bool
        Subtract returned value from monetary.
    clean, returns : str
        Relations with the kept purchase lines and the return lines.
    customer_key : bool
        The relations carry :data:`custseg.schema.CUSTOMER_KEY` (streamed large
        files): group by it, cheaper than the text id, and turn each key into its id
        with the loader's macro :data:`custseg.schema.CUSTOMER_ID_OF_KEY` (same table).
    columns : sequence of str, optional
        The feature columns to compute, in this order (default: all of
        :data:`custseg.schema.FEATURE_COLUMNS`). Only their aggregates are computed:
        without ``distinct_products`` the per-customer count of distinct stock codes
        (the costliest aggregate) is skipped, and without ``return_rate`` (and with
        ``net_returns`` False) the return lines are not read at all.

    Raises
    ------
    ParameterError
        A name in ``columns`` is not a feature column.
    """
    wanted = feature_columns(columns)
    needs = set().union(*(_FEATURE_NEEDS[col] for col in wanted))
    if net_returns and needs & {"gross"}:
        needs.add("returned")
    snap = f"DATE '{snapshot.isoformat()}'"
    c, inv, amt, qty, code, date = (
        S.CUSTOMER_ID,
        S.INVOICE,
        S.AMOUNT,
        S.QUANTITY,
        S.STOCK_CODE,
        S.INVOICE_DATE,
    )
    monetary = "p.gross - coalesce(r.returned, 0)" if net_returns else "p.gross"
    group = S.CUSTOMER_KEY if customer_key else c
    customer = f"{S.CUSTOMER_ID_OF_KEY}(p.customer_id)" if customer_key else "p.customer_id"
    aggregates = {
        "frequency": f"count(DISTINCT {inv}) AS frequency",
        "gross": f"sum({amt}) AS gross",
        "items": f"sum({qty}) AS items",
        "distinct_products": f"count(DISTINCT {code}) AS distinct_products",
        "last_purchase": f"max({date}) AS last_purchase",
        "first_purchase": f"min({date}) AS first_purchase",
    }
    outputs = {
        S.RECENCY: f"date_diff('day', CAST(p.last_purchase AS DATE), {snap})",
        S.FREQUENCY: "p.frequency",
        S.MONETARY: monetary,
        S.TENURE: f"date_diff('day', CAST(p.first_purchase AS DATE), {snap})",
        S.AVG_ORDER_VALUE: f"({monetary}) / p.frequency",
        S.ITEMS_PER_ORDER: "coalesce(p.items, 0) / p.frequency",
        S.DISTINCT_PRODUCTS: "p.distinct_products",
        S.RETURN_RATE: "CASE WHEN p.gross > 0 "
        "THEN least(coalesce(r.returned, 0) / p.gross, 1.0) ELSE 0.0 END",
    }
    selected = ",\n               ".join(f"{outputs[col]} AS {col}" for col in wanted)
    p_cols = ",\n                   ".join(
        [f"{group} AS customer_id"] + [sql for name, sql in aggregates.items() if name in needs]
    )
    r, join = "", "FROM p"
    if "returned" in needs:  # otherwise the return lines are not read
        r = f""", r AS (
            SELECT {group} AS customer_id, sum(-{amt}) AS returned FROM {returns} GROUP BY {group}
        )"""
        join = "FROM p LEFT JOIN r USING (customer_id)"
    return f"""
        WITH p AS (
            SELECT {p_cols}
            FROM {clean} GROUP BY {group}
        ){r}
        SELECT {customer} AS {S.CUSTOMER_ID},
               {selected}
        {join}
        ORDER BY 1
    """


_FEATURE_NEEDS: dict[str, frozenset[str]] = {
    S.RECENCY: frozenset({"last_purchase"}),
    S.FREQUENCY: frozenset({"frequency"}),
    S.MONETARY: frozenset({"gross"}),
    S.TENURE: frozenset({"first_purchase"}),
    S.AVG_ORDER_VALUE: frozenset({"gross", "frequency"}),
    S.ITEMS_PER_ORDER: frozenset({"items", "frequency"}),
    S.DISTINCT_PRODUCTS: frozenset({"distinct_products"}),
    S.RETURN_RATE: frozenset({"gross", "returned"}),
}
"""The per-customer aggregates (see :func:`customer_features_sql`) each feature reads."""


def feature_columns(columns: Sequence[str] | None = None) -> list[str]:
    """The feature columns asked for: all of them by default, checked, duplicates dropped.

    Parameters
    ----------
    columns : sequence of str, optional
        Names among :data:`custseg.schema.FEATURE_COLUMNS`, in the order wanted.

    Returns
    -------
    list of str

    Raises
    ------
    ParameterError
        An unknown name, or none at all.
    """
    if columns is None:
        return list(S.FEATURE_COLUMNS)
    wanted = list(dict.fromkeys(str(c).strip() for c in columns if str(c).strip()))
    unknown = [c for c in wanted if c not in S.FEATURE_COLUMNS]
    if unknown or not wanted:
        what = (
            f"unknown feature column '{unknown[0]}'" if unknown else "no feature column asked for"
        )
        raise ParameterError(what, fix=f"choose among {', '.join(S.FEATURE_COLUMNS)}")
    return wanted


def customer_features(
    con: duckdb.DuckDBPyConnection,
    snapshot: dt.date,
    *,
    net_returns: bool = False,
    clean: str = "clean_lines",
    returns: str = "return_lines",
    customer_key: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-customer features, one row per customer, indexed by ``customer_id`` (sorted).

    ``columns``: the features to compute (default: all); see :func:`customer_features_sql`.

    Returns
    -------
    DataFrame
        Columns :data:`custseg.schema.FEATURE_COLUMNS` (or ``columns``): recency
        (int days), frequency (int), monetary, tenure (int days), avg_order_value,
        items_per_order, distinct_products (int), return_rate.
    """
    df = con.execute(
        customer_features_sql(
            snapshot,
            net_returns=net_returns,
            clean=clean,
            returns=returns,
            customer_key=customer_key,
            columns=columns,
        )
    ).df()
    df[S.CUSTOMER_ID] = df[S.CUSTOMER_ID].astype(str)
    df = df.set_index(S.CUSTOMER_ID)
    for col in df.columns:
        integer = col in (S.RECENCY, S.FREQUENCY, S.TENURE, S.DISTINCT_PRODUCTS)
        df[col] = df[col].astype("int64" if integer else "float64")
    return df


def _define_feature_transformer() -> type:
    """Define :class:`FeatureTransformer`, importing scikit-learn only then.

    scikit-learn (and SciPy behind it) take a second or more to import; the SQL
    half of this module (``custseg features``, which data engineers schedule)
    does not need them, so the class is defined on first access.
    """
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.preprocessing import PowerTransformer, StandardScaler

    class FeatureTransformer(TransformerMixin, BaseEstimator):
        """Make features fit for distance-based clustering.

        ``method="log"``: log1p on each column whose skewness exceeds
        ``skew_threshold`` (negative values are clipped to 0 first), then
        standardisation (zero mean, unit variance). ``method="yeo-johnson"``: a
        Yeo-Johnson power transform with standardisation (handles negatives).

        Parameters
        ----------
        columns : sequence of str
            Features used; default recency, frequency, monetary.
        method : {"log", "yeo-johnson"}
        skew_threshold : float
            |skewness| above which a column is log-transformed (method="log").

        Attributes
        ----------
        log_columns_ : list of str
            Columns that were log1p-transformed.
        skewness_ : dict
            Skewness of each column before transformation.
        mean_, scale_ : ndarray
            Standardisation parameters (method="log").
        power_ : PowerTransformer
            The fitted transformer (method="yeo-johnson").
        feature_names_in_ : ndarray of str
        """

        def __init__(
            self,
            columns: Sequence[str] = S.RFM_COLUMNS,
            method: Literal["log", "yeo-johnson"] = "log",
            skew_threshold: float = 1.0,
        ):
            self.columns = columns
            self.method = method
            self.skew_threshold = skew_threshold

        def _select(self, X: pd.DataFrame) -> pd.DataFrame:
            missing = [c for c in self.columns if c not in X.columns]
            if missing:
                raise ParameterError(
                    f"unknown feature(s) {', '.join(missing)}",
                    fix=f"choose among {', '.join(S.FEATURE_COLUMNS)}",
                )
            return X[list(self.columns)].astype("float64")

        def fit(self, X: pd.DataFrame, y=None) -> FeatureTransformer:
            if self.method not in ("log", "yeo-johnson"):
                raise ParameterError(
                    f"unknown transform '{self.method}'", fix="use log or yeo-johnson"
                )
            if not len(self.columns):
                raise ParameterError(
                    "no feature selected for clustering", fix="pass at least one --features name"
                )
            data = self._select(X)
            self.feature_names_in_ = np.asarray(list(self.columns), dtype=object)
            self.skewness_ = {
                c: float(v) if np.isfinite(v) else 0.0 for c, v in data.skew().items()
            }
            if self.method == "log":
                self.log_columns_ = [
                    c for c in self.columns if abs(self.skewness_[c]) > self.skew_threshold
                ]
                logged = self._log(data)
                scaler = StandardScaler().fit(logged.to_numpy())
                self.mean_ = scaler.mean_
                # A zero-variance feature (every customer equal) is centred, not divided by 0.
                self.scale_ = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
            else:
                self.log_columns_ = []
                self.power_ = PowerTransformer(method="yeo-johnson", standardize=True).fit(
                    data.to_numpy()
                )
            return self

        def _log(self, data: pd.DataFrame) -> pd.DataFrame:
            out = data.copy()
            for c in self.log_columns_:
                out[c] = np.log1p(out[c].clip(lower=0))
            return out

        def transform(self, X: pd.DataFrame) -> pd.DataFrame:
            data = self._select(X)
            if self.method == "log":
                values = (self._log(data).to_numpy() - self.mean_) / self.scale_
            else:
                values = self.power_.transform(data.to_numpy())
            values = np.nan_to_num(values, nan=0.0)
            return pd.DataFrame(values, index=X.index, columns=list(self.columns))

        def get_feature_names_out(self, input_features=None) -> np.ndarray:
            return np.asarray(list(self.columns), dtype=object)

        def describe(self) -> dict:
            """JSON-ready description of the fitted transform."""
            return {
                "method": self.method,
                "columns": list(self.columns),
                "log1p_columns": list(self.log_columns_),
                "skewness": self.skewness_,
                "skew_threshold": self.skew_threshold,
            }

    FeatureTransformer.__module__ = __name__
    FeatureTransformer.__qualname__ = "FeatureTransformer"
    return FeatureTransformer


def __getattr__(name: str):
    if name == "FeatureTransformer":
        cls = _define_feature_transformer()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
