"""Management commands of the moltres Django app."""
