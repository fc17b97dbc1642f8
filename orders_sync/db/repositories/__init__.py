"""Every SQL statement of orders_sync lives in this package, one module per table."""
