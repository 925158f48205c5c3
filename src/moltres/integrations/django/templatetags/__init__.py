"""The ``moltres_tags`` template library."""
