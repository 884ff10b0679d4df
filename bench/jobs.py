"""What the job queue's lease costs an import: the same workbook inline and as a worker runs it.

    python -m bench.jobs [--rows 20000] [--runs 3] [--database-url URL] [--force] [--smoke]

Each run imports a fresh standards sheet (new certificate numbers) twice,
in alternating order: **inline**, as a request runs a small upload
(``run_import`` into a run row, then commit), and as the **job** a worker
runs (claim with a conditional UPDATE, the lease thread writing progress and
a heartbeat every second from a second connection, the import, the check
that the run is still this attempt's, commit).  It prints the medians, their
ratio, and the median time of one heartbeat write on its own.

Without ``--database-url`` the database is a temporary SQLite file (the
heartbeat then goes to the queue's SQLite file); a PostgreSQL database must
have ``bench`` or ``test`` in its name: its ``public`` schema is dropped and recreated.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench import refuse_unless_bench, reset_database


def _app(url: str, workdir: Path):
    from config import TestingConfig
    from registry import create_app

    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.IMPORT_STORAGE_DIR = str(workdir / "uploads")
    cfg.JOBS_URL = f"sqlite:///{workdir / 'jobs.db'}"
    cfg.IMPORT_INLINE_ONLY = False
    return create_app(cfg)


def _fresh(app) -> str:
    """Migrate an empty database, load the reference data, add the institution the sheets name."""
    from registry.extensions import db
    from registry.seed.reference import load_reference_data
    from tests import factories

    reset_database(app)
    with app.app_context():
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        holder = factories.institution().credit_code
        db.session.commit()
        db.session.remove()
    return holder


def _queued_run(app, data: bytes) -> int:
    from registry.extensions import db
    from registry.imports import services
    from registry.imports.models import ImportRun

    with app.app_context():
        run = ImportRun(actor_label="system", filename="bench.xlsx", dry_run=False, status="queued")
        db.session.add(run)
        db.session.commit()
        path = services.upload_path(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        run_id = run.id
        db.session.remove()
    return run_id


def _inline(app, data: bytes) -> float:
    from registry.extensions import db
    from registry.imports import services
    from registry.imports.models import ImportRun

    run_id = _queued_run(app, data)
    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        start = time.perf_counter()
        services._execute(run, None)
        db.session.commit()
        elapsed = time.perf_counter() - start
        assert run.status == "applied", run.status
        db.session.remove()
    return elapsed


def _job(app, data: bytes) -> float:
    from registry.extensions import db
    from registry.imports.models import ImportRun
    from registry.imports.tasks import run_import_job

    run_id = _queued_run(app, data)
    with app.app_context():
        start = time.perf_counter()
        run_import_job(run_id)
        elapsed = time.perf_counter() - start
        status = db.session.get(ImportRun, run_id).status
        assert status == "applied", status
        db.session.remove()
    return elapsed


def _beat_ms(app, samples: int = 200) -> float:
    from registry.imports import lease

    run_id = _queued_run(app, b"")
    with app.app_context():
        attempt = lease.claim(run_id, "bench")
        store = lease.beats()
        times = []
        for n in range(samples):
            start = time.perf_counter()
            assert store.beat(run_id, "bench", attempt, n, samples)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    from tests.jobs.support import standards_book

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--force", action="store_true", help="allow a PostgreSQL database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true", help="CI: 300 rows, one run (the benchmark still runs)")
    args = parser.parse_args()
    refuse_unless_bench(parser, args.database_url, args.force)
    if args.smoke:
        args.rows, args.runs = 300, 1

    workdir = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    app = _app(url, workdir)
    holder = _fresh(app)
    print(f"database: {url.split('@')[-1]}   rows: {args.rows:,}   runs: {args.runs}", flush=True)
    timings: dict[str, list[float]] = {"inline": [], "job": []}
    for n in range(args.runs):
        order = ("inline", "job") if n % 2 == 0 else ("job", "inline")
        for mode in order:
            data = standards_book(holder, "基" + uuid.uuid4().hex[:6].upper(), args.rows)
            timings[mode].append((_inline if mode == "inline" else _job)(app, data))
        print(f"run {n + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in timings.items()), flush=True)
    inline, job = (statistics.median(timings[k]) for k in ("inline", "job"))
    print()
    print(f"inline (run_import + commit)             {inline:6.2f} s")
    print(f"job (claim, lease thread, import, check) {job:6.2f} s   job / inline {job / inline:.3f}")
    print(f"one heartbeat write (median of 200)      {_beat_ms(app):6.2f} ms")


if __name__ == "__main__":
    main()
