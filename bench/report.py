"""Benchmark the report to send (the dashboard's workbook) on a generated province.

    python -m bench.report [--size 100000] [--database-url URL] [--runs 5] [--reuse] [--smoke]

Builds the province of ``bench.coverage`` (N standards, N/12 institutions, N/2
people) in a fresh database, adds a plan in force on the date, and times,
uncached (``NullCache``: every service computes), the median of ``--runs``
after a warm-up of: each part the workbook reads (indicators, by city, gaps,
apply-now and expired certificates, the metrologist follow-up), writing the
workbook, and the whole report for the province (``workbook.collect`` +
``workbook.write_workbook``, what ``registry report`` and
``/dashboard/report.xlsx`` run), beside a bare ``SELECT count(*) FROM
measurement_standards`` timed in the same run.

The default database is a temporary SQLite file.  With ``--database-url``
(PostgreSQL) the database's ``public`` schema is DROPPED and recreated, so
its name must contain "bench" unless ``--force`` is given.
"""
from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench import refuse_unless_bench
from bench.coverage import ANCHOR, BASELINE, _add_next_plan, _analyze, _bench_config, _build, _median_ms, \
    _reset_postgres


def run(size: int, url: str | None, runs: int, reuse: bool) -> list[tuple[str, float, float, float]]:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.coverage import renewals, workbook
    from registry.coverage.metrologists import metrologist_follow_up
    from registry.coverage import services
    from registry.extensions import db
    from registry.seed.reference import load_reference_data

    workdir = None
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
        url = f"sqlite:///{workdir / 'bench.db'}"
    elif not reuse:
        _reset_postgres(url)
    config = _bench_config(url)
    config.CACHE_TYPE = "NullCache"
    app = create_app(config)
    rows = []
    try:
        with app.app_context():
            upgrade()
            existing = db.session.scalar(sa.text(BASELINE))
            db.session.commit()
            started = time.perf_counter()
            if not (reuse and existing == size):
                if existing:
                    raise SystemExit(f"the database already holds {existing} standards; drop it or use --reuse")
                load_reference_data(plan_start=app.config["PLAN_START_DATE"])
                db.session.commit()
                _build(db.engine, size)
                _add_next_plan()
                db.session.commit()
            _analyze(db.engine)
            print(f"{db.engine.dialect.name}, {size:,} standards: ready in {time.perf_counter() - started:.1f} s",
                  flush=True)
            province = app.config["PROVINCE_CODE"]
            data = workbook.collect(ANCHOR)
            out = io.BytesIO()

            def write():
                out.seek(0)
                out.truncate()
                workbook.write_workbook(data, out)

            def whole():
                buffer = io.BytesIO()
                workbook.write_workbook(workbook.collect(ANCHOR), buffer)
                return buffer

            operations = [
                ("baseline: " + BASELINE, lambda: db.session.scalar(sa.text(BASELINE))),
                ("indicators (coverage_report)", lambda: services.coverage_report(ANCHOR)),
                ("by city (coverage_by_region)", lambda: services.coverage_by_region(ANCHOR)),
                ("gaps (coverage_gaps)", lambda: services.coverage_gaps(ANCHOR)),
                (f"apply now, first {workbook.LIST_ROW_LIMIT}",
                 lambda: renewals.renewals(ANCHOR, province, limit=workbook.LIST_ROW_LIMIT)),
                (f"expired, first {workbook.LIST_ROW_LIMIT}",
                 lambda: renewals.renewals(ANCHOR, province, window="expired", limit=workbook.LIST_ROW_LIMIT)),
                ("metrologist follow-up", lambda: metrologist_follow_up(ANCHOR)),
                ("writing the workbook", write),
                ("the whole report (collect + write)", whole),
            ]
            for name, call in operations:
                median, low, high = _median_ms(call, runs)
                rows.append((name, median, low, high))
                db.session.rollback()
            print(f"rows in the workbook: apply now {len(data.apply_now.items):,} of {data.apply_now.total:,}, "
                  f"expired {len(data.expired.items):,} of {data.expired.total:,}, "
                  f"institutions {len(data.metrologists.institutions):,}; {len(whole().getvalue()):,} bytes")
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="number of standards (default 100000)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped and recreated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per operation (median; default 5)")
    parser.add_argument("--reuse", action="store_true", help="keep a PostgreSQL database already built at that size")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 1,000 standards, to check the benchmark still runs (the figures mean nothing)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size = 1000
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.database_url:
        if sa.engine.make_url(args.database_url).get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite uses a temporary file)")
        refuse_unless_bench(parser, args.database_url, args.force)
    rows = run(args.size, args.database_url, args.runs, args.reuse)
    baseline = rows[0][1] or 1e-9
    print(f"\nmedian of {args.runs} runs, uncached, on {ANCHOR} (ms):")
    width = max(len(name) for name, *_ in rows)
    for name, median, low, high in rows:
        print(f"  {name:<{width}}  {median:9.1f}  (min {low:.1f}, max {high:.1f}; {median / baseline:.1f}× baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
