"""Alembic migrations of the knowledge database (``script_location = genomflow.kb:migrations``)."""
