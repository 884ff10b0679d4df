"""The request's data version is forgotten at each commit (what follows reads the new one).

Kept apart from :mod:`registry.coverage.cache`, which imports the coverage services:
every app registers this listener, and a command that computes no report (``registry
import``) need not import the reports to do so.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_app_context

# Where a request keeps the data version it read (registry.coverage.cache.data_version).
_VERSION_KEY = "coverage_data_version"


def forget_data_version() -> None:
    """After a commit, read the version again (a request or command that wrote and then reads)."""
    if has_app_context():
        g.pop(_VERSION_KEY, None)


def init_app(app) -> None:
    """Forget the request's data version at each commit (what follows reads the new one)."""
    from sqlalchemy.orm import Session

    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)


def _after_commit(session) -> None:
    forget_data_version()
