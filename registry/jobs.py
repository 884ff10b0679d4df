"""Background jobs: a Huey queue, run by ``registry worker``.

The queue lives where ``JOBS_URL`` says: an SQLite file by default
(``instance/jobs.db``), Redis when ``REDIS_URL`` (or ``JOBS_URL``) names one,
``memory://`` inside one process.  Features declare their jobs with
:func:`task` and :func:`periodic_task` in a ``tasks`` module listed in
``TASK_MODULES``; each app builds its Huey on first use and registers them,
each wrapped to run in an app context of its own.

The queue carries "run this job with these arguments" at least once: a
message may be delivered twice (a sweep puts back a job it cannot find), or
lost if a worker dies between taking it and starting it.  So what a job
does is recorded in the database, not in the queue, and every job is safe
to run twice (an import claims its run with a conditional UPDATE).

A job is queued when the transaction that asked for it commits
(:func:`enqueue_after_commit`), so a worker never looks for a row that is
not there yet, and a request that rolls back queues nothing.
"""
from __future__ import annotations

import functools
import importlib
import logging
import os
import socket
import threading
from typing import Any, Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Modules declaring jobs; imported when an app builds its queue.
TASK_MODULES = ("registry.imports.tasks", "registry.reminders.tasks")

# Jobs declared by the task modules: (function, periodic schedule or None, Huey options).
_DECLARED: list[tuple[Callable, dict | None, dict]] = []
_PENDING = "registry.jobs.pending"


def task(**options: Any) -> Callable[[Callable], Callable]:
    """Declare a job (a plain function; queue it with :func:`enqueue_after_commit`)."""

    def declare(func: Callable) -> Callable:
        _DECLARED.append((func, None, options))
        return func

    return declare


def periodic_task(**schedule: str) -> Callable[[Callable], Callable]:
    """Declare a job the worker runs on a schedule (``huey.crontab`` fields, UTC)."""

    def declare(func: Callable) -> Callable:
        _DECLARED.append((func, schedule, {}))
        return func

    return declare


def worker_name() -> str:
    """Who runs a job: host, process and thread (kept in the rows a job claims)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:255]


class Jobs:
    """One app's queue: its Huey (built on first use) and its registered jobs."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url: str = app.config["JOBS_URL"]
        self._huey = None
        self._wrappers: dict[Callable, Any] = {}
        self._lock = threading.Lock()

    @property
    def huey(self):
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    self._huey = self._build()
        return self._huey

    def _build(self):
        import huey
        from huey import crontab

        config = self.app.config
        name = config["JOBS_QUEUE_NAME"]
        scheme = self.url.split(":", 1)[0].lower()
        if scheme == "sqlite":
            path = self.url.split("sqlite:///", 1)[-1]
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            queue = huey.SqliteHuey(name, filename=path, results=False)
        elif scheme in ("redis", "rediss", "unix"):
            queue = huey.RedisHuey(name, url=self.url, results=False)
        elif scheme == "memory":
            queue = huey.MemoryHuey(name, results=False)
        else:
            raise RuntimeError(f"JOBS_URL {self.url!r}: expected sqlite:///FILE, redis://HOST:PORT/DB or memory://")
        queue.immediate = bool(config.get("JOBS_IMMEDIATE"))
        for module in TASK_MODULES:
            importlib.import_module(module)
        for func, schedule, options in _DECLARED:
            job = self._in_app_context(func)
            if schedule is None:
                self._wrappers[func] = queue.task(**options)(job)
            else:
                self._wrappers[func] = queue.periodic_task(crontab(**schedule))(job)
        return queue

    def _in_app_context(self, func: Callable) -> Callable:
        app = self.app

        @functools.wraps(func)
        def job(*args, **kwargs):
            with app.app_context():
                return func(*args, **kwargs)

        return job

    def enqueue(self, func: Callable, *args: Any) -> None:
        """Queue ``func(*args)`` now (prefer :func:`enqueue_after_commit`)."""
        queue = self.huey
        self._wrappers[func](*args)
        log.debug("queued %s%r on %s", func.__name__, args, queue.storage.__class__.__name__)

    def pending(self) -> list[tuple[str, tuple]]:
        """The jobs waiting in the queue, as (function name, arguments)."""
        return [(type(t).__name__, tuple(t.args or ())) for t in self.huey.pending()]

    def describe(self) -> str:
        """Where the queue lives, without a password."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        if parts.password:
            host = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
            return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()
        return self.url


def jobs() -> Jobs:
    """The current app's queue."""
    return current_app.extensions["jobs"]


def enqueue_after_commit(func: Callable, *args: Any) -> None:
    """Queue ``func(*args)`` once the current transaction commits (nothing if it rolls back)."""
    from registry.extensions import db

    session = db.session()
    if session.get_transaction() is None:
        session.begin()  # so that a rollback before any statement forgets the job too
    session.info.setdefault(_PENDING, []).append((jobs(), func, args))


@event.listens_for(Session, "after_commit")
def _queue_committed(session: Session) -> None:
    for queue, func, args in session.info.pop(_PENDING, ()):
        try:
            queue.enqueue(func, *args)
        except Exception:  # the commit stands; the sweep queues the job again (registry.imports.tasks)
            log.exception("could not queue %s%r on %s", func.__name__, args, queue.describe())


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = Jobs(app)  # `registry worker` is listed in registry.cli.COMMANDS


@click.command("worker")
@click.option("--workers", "-w", type=click.IntRange(1, 64), default=None,
              help="Jobs run at once (threads; default JOBS_WORKERS).")
@click.option("--periodic/--no-periodic", default=True, help="Also run the scheduled jobs (sweeps, clean-up).")
@with_appcontext
def worker_command(workers: int | None, periodic: bool) -> None:
    """Run background jobs (imports of big workbooks, clean-up) until stopped.

    SIGTERM lets the running jobs finish first (a second SIGTERM stops at once); Ctrl-C
    stops at once, and the imports it cut short fail when their lease runs out (retry them).
    """
    from registry.cli import echo, say
    from registry.imports.tasks import sweep_runs

    queue = jobs()
    if queue.huey.immediate:
        raise click.ClickException(say("JOBS_IMMEDIATE 已开启：任务在提交处直接运行，不需要 worker",
                                       "JOBS_IMMEDIATE is on: jobs run where they are queued; no worker is needed"))
    if queue.url.startswith("memory:"):
        raise click.ClickException(say("JOBS_URL 为 memory://：只有提交任务的进程能看到任务；"
                                       "请使用 sqlite:///FILE 或 redis://HOST:PORT/DB",
                                       "JOBS_URL is memory://: only the process that queues a job sees it; "
                                       "use sqlite:///FILE or redis://HOST:PORT/DB"))
    workers = workers or current_app.config["JOBS_WORKERS"]
    echo(say(f"任务进程 {worker_name()}：同时运行 {workers} 个任务，队列 {queue.describe()}"
             f"（{current_app.config['JOBS_QUEUE_NAME']}）",
             f"worker {worker_name()}: {workers} at once, queue {queue.describe()} "
             f"({current_app.config['JOBS_QUEUE_NAME']})"))
    sweep_runs()  # what a worker that died left behind, before taking new jobs
    consumer = queue.huey.create_consumer(workers=workers, periodic=periodic, worker_type="thread",
                                          graceful_signal="TERM", check_worker_health=True)
    consumer.run()
