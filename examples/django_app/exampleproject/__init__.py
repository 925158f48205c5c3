"""A small Django project that uses moltres next to the ORM."""
