"""Executors: connections, transactions, and running compiled statements."""
