"""A Django app with one model, for the web suite."""
