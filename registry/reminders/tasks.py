"""The worker runs the reminders every ten minutes (as ``registry reminders run`` from cron would)."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from registry import jobs
from registry.extensions import db
from registry.reminders import services

log = logging.getLogger(__name__)


@jobs.periodic_task(minute="*/10")
def run_reminders_job() -> None:
    """Record and send what is due today; idempotent, so every worker on every machine may run it."""
    if not current_app.config["REMINDERS_IN_WORKER"]:
        return
    try:
        result = services.run()
    except sa.exc.OperationalError:  # SQLite, while an import holds the write lock: the next run will do
        db.session.rollback()
        log.info("reminders: database busy, postponed")
        return
    if result.recorded_inbox or result.sent or result.retrying or result.failed:
        log.info("reminders: %s", result.as_dict())
