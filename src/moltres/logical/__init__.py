"""Logical plans: immutable descriptions of a query, with no database in sight."""
