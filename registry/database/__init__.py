"""The database: the declarative base, the engine set-up, every model, backups.

- ``base``: ``Base`` with the constraint naming convention, UTC timestamps, shared mixins.
- ``engine``: set-up that differs by database (SQLite's writers taking turns, read-only requests).
- ``models``: imports every feature's models, so the metadata (and Alembic) sees the whole schema.
- ``backup``: ``registry backup`` and ``registry restore``.
"""
