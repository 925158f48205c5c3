"""The example app: people stored with the ORM, queried and updated with moltres."""
