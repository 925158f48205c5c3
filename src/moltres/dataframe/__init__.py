"""DataFrames: lazy queries with PySpark-style builders; sync and async terminals."""
