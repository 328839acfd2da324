"""Alembic migrations of the watchdog database (installed as ``watchdog.migrations``)."""
