"""gunicorn's settings for the registry: ``gunicorn`` (run from this folder) reads this file.

    gunicorn --workers 4 --bind 127.0.0.1:8000

Before any worker starts, the master checks that the workers can share what
must be shared: in production (``REGISTRY_ENV=production``) more than one
worker with ``memory://`` rate-limit storage is refused, because each worker
would count login attempts and public queries on its own.  The worker count
is gunicorn's final one, however it was given (``--workers``,
``GUNICORN_CMD_ARGS``, ``WEB_CONCURRENCY``).
"""
wsgi_app = "wsgi:app"


def on_starting(server):
    from config import get_config, per_process_limits_problem

    settings = get_config()
    problem = per_process_limits_problem(settings.REGISTRY_ENV, settings.RATELIMIT_STORAGE_URI, server.cfg.workers)
    if problem:
        raise RuntimeError(f"refusing to start: {problem}")  # gunicorn prints "Error: ..." and exits 1
