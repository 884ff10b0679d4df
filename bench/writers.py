"""Simultaneous writers under gunicorn: how many answers are 200, 412, 503 or 500.

    python -m bench.writers [--workers 4] [--clients 60] [--database-url URL] [--smoke]

Serves the registry with gunicorn (``--workers`` processes, one thread
each, development settings) on a temporary SQLite file (or the PostgreSQL
database given, whose ``public`` schema is dropped and recreated), then
sends ``--clients`` simultaneous PATCHes:

- of one standard, all with the same ``If-Match``: one should be 200 and
  the others 412 (the record changed), none 500;
- of ``--clients`` different standards: all should be 200.

Prints the count of each status for each round.  ``--smoke`` (CI) runs 2
workers and 4 clients; a PostgreSQL database's name must contain "bench"
unless ``--force``.  Not a speed measurement:
the figures are outcomes, and do not depend on the machine's load.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import refuse_unless_bench

ROOT = Path(__file__).resolve().parent.parent


def prepare(url: str, clients: int, instance: Path) -> tuple[list[int], str]:
    """Migrate, load reference data, one regulator with a token and ``clients`` standards."""
    from flask_migrate import upgrade

    import config
    from registry import create_app
    from registry.auth.services import create_user, issue_token
    from registry.extensions import db
    from registry.seed.reference import load_reference_data
    from tests import factories

    settings = config.DevelopmentConfig()
    settings.SQLALCHEMY_DATABASE_URI = url
    settings.IMPORT_STORAGE_DIR = str(instance / "imports")
    app = create_app(settings)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        holder = factories.institution()
        ids = [factories.standard(holder).id for _ in range(clients + 1)]
        user = create_user(email="bench-writers@example.test", password="Bench-writers-2026!", role="regulator",
                           actor=None)
        raw, _ = issue_token(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids, raw


def patch(base: str, standard_id: int, token: str, name: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/standards/{standard_id}", method="PATCH",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "If-Match": '"1"',
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def at_once(calls) -> collections.Counter:
    barrier = threading.Barrier(len(calls))
    statuses: list = []

    def run(fn):
        barrier.wait()
        statuses.append(fn())

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return collections.Counter(statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--database-url")
    parser.add_argument("--force", action="store_true", help="allow a PostgreSQL database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true", help="CI: 2 workers, 4 clients (the benchmark still runs)")
    args = parser.parse_args()
    if args.smoke:
        args.workers, args.clients = 2, 4
    refuse_unless_bench(parser, args.database_url, args.force)
    with tempfile.TemporaryDirectory(prefix="bench-writers-") as tmp:
        instance = Path(tmp)
        url = args.database_url or f"sqlite:///{instance / 'registry.db'}"
        ids, token = prepare(url, args.clients, instance)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": url, "REGISTRY_ENV": "development", "SECRET_KEY": "bench-writers",
               "REGISTRY_INSTANCE_DIR": str(instance)}
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(args.workers),
                                   "--bind", f"127.0.0.1:{port}", "--log-level", "error"],
                                  cwd=ROOT, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.25)
            backend = url.split(":", 1)[0]
            same = at_once([lambda i=i: patch(base, ids[0], token, f"同一记录{i}") for i in range(args.clients)])
            print(f"{backend}, {args.workers} workers, {args.clients} PATCHes of one standard: {dict(sorted(same.items()))}")
            different = at_once([lambda sid=sid: patch(base, sid, token, f"各自记录{sid}") for sid in ids[1:]])
            print(f"{backend}, {args.workers} workers, {len(ids) - 1} PATCHes of different standards: "
                  f"{dict(sorted(different.items()))}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()


if __name__ == "__main__":
    main()
