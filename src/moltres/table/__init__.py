"""Table definitions (``column``, ``ColumnDef``) and the statements that change tables."""
