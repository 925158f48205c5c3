"""``python manage.py moltres_query``."""
