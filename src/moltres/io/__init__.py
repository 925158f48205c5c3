"""Rows in and out: Records, file formats, and pandas/polars/Arrow conversion."""
