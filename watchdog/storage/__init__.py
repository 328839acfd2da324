"""Storage: the database every stage reads and writes, and its migrations.

- ``models``: the tables, as typed SQLAlchemy declarative classes. Unique
  constraints here are the at-most-once guarantees the pipeline relies on.
- ``engine``: ``make_engine(url)`` and ``session_factory(engine)``; SQLite is
  set up for a daemon (WAL, busy timeout, foreign keys), PostgreSQL uses psycopg 3.
- ``migrate``: Alembic driven from code (no alembic.ini needed): ``upgrade``,
  ``current_revision``, ``head_revision``, ``migration_status`` for ``doctor``.
"""
