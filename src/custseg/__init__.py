"""custseg: customer segmentation from a retailer's transaction log."""

__version__ = "0.1.0"
