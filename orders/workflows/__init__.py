"""The order workflows. Importing this package registers them (the workflow app imports every
app's ``workflows`` module at start-up)."""

from orders.workflows.fulfilment import FULFILMENT

__all__ = ["FULFILMENT"]
