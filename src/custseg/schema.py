"""Canonical column names and the known source layouts mapped onto them.

Column names are mapped once, at the edge (the loader); every later stage uses
the canonical names below and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Canonical transaction-line columns (DuckDB view ``lines`` and pandas frames).
INVOICE = "invoice"
STOCK_CODE = "stock_code"
DESCRIPTION = "description"
QUANTITY = "quantity"
INVOICE_DATE = "invoice_date"
UNIT_PRICE = "unit_price"
CUSTOMER_ID = "customer_id"
COUNTRY = "country"
AMOUNT = "amount"  # line total = quantity * unit_price, or the given amount

LINE_COLUMNS = (
    INVOICE,
    STOCK_CODE,
    DESCRIPTION,
    QUANTITY,
    INVOICE_DATE,
    UNIT_PRICE,
    CUSTOMER_ID,
    COUNTRY,
    AMOUNT,
)

# Streamed large files (see custseg.load): beside the line columns, a customer key equal
# for two lines exactly when their customer_id is, cheaper to hash and group (the number
# itself for a numeric id column), and a SQL macro turning a key back into its id.
CUSTOMER_KEY = "_cust_key"
CUSTOMER_ID_OF_KEY = "_customer_id_of"

# Canonical per-customer feature names (index is ``customer_id``).
RECENCY = "recency"
FREQUENCY = "frequency"
MONETARY = "monetary"
TENURE = "tenure"
AVG_ORDER_VALUE = "avg_order_value"
ITEMS_PER_ORDER = "items_per_order"
DISTINCT_PRODUCTS = "distinct_products"
RETURN_RATE = "return_rate"

FEATURE_COLUMNS = (
    RECENCY,
    FREQUENCY,
    MONETARY,
    TENURE,
    AVG_ORDER_VALUE,
    ITEMS_PER_ORDER,
    DISTINCT_PRODUCTS,
    RETURN_RATE,
)
RFM_COLUMNS = (RECENCY, FREQUENCY, MONETARY)


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each canonical field.

    Only ``customer``, ``date`` and either ``amount`` or both ``quantity`` and
    ``price`` are required. Without ``invoice``, each distinct
    (customer, date-time) is one order.
    """

    customer: str
    date: str
    invoice: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None
    stock_code: str | None = None
    description: str | None = None
    country: str | None = None
    date_format: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Canonical name -> source column (only the fields that are set)."""
        pairs = {
            CUSTOMER_ID: self.customer,
            INVOICE_DATE: self.date,
            INVOICE: self.invoice,
            QUANTITY: self.quantity,
            UNIT_PRICE: self.price,
            AMOUNT: self.amount,
            STOCK_CODE: self.stock_code,
            DESCRIPTION: self.description,
            COUNTRY: self.country,
        }
        return {k: v for k, v in pairs.items() if v is not None}


@dataclass(frozen=True)
class KnownLayout:
    """A published dataset's column names."""

    name: str
    mapping: ColumnMapping
    required: tuple[str, ...] = field(default_factory=tuple)


ONLINE_RETAIL = KnownLayout(
    name="UCI Online Retail",
    mapping=ColumnMapping(
        customer="CustomerID",
        date="InvoiceDate",
        invoice="InvoiceNo",
        quantity="Quantity",
        price="UnitPrice",
        stock_code="StockCode",
        description="Description",
        country="Country",
    ),
)

ONLINE_RETAIL_II = KnownLayout(
    name="UCI Online Retail II",
    mapping=ColumnMapping(
        customer="Customer ID",
        date="InvoiceDate",
        invoice="Invoice",
        quantity="Quantity",
        price="Price",
        stock_code="StockCode",
        description="Description",
        country="Country",
    ),
)

KNOWN_LAYOUTS = (ONLINE_RETAIL, ONLINE_RETAIL_II)


def detect_layout(columns: list[str]) -> KnownLayout | None:
    """Return the known layout whose columns are all present, if any."""
    present = set(columns)
    for layout in KNOWN_LAYOUTS:
        if set(layout.mapping.as_dict().values()) <= present:
            return layout
    return None
