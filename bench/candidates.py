"""Time the gap candidates (who could close each gap) on a generated province.

    python -m bench.candidates [--size 100000] [--database-url URL] [--runs 5] [--smoke]

It builds the province of ``bench.coverage`` (N standards, N/12 institutions
across the 11 cities, a 62-line catalog) in a fresh database, gives each
standard a JJF 1022 discipline (its first line's, so a line has a discipline),
and lets every social public standard of five popular lines lapse in three
cities (their certificates expired a month before the date): those cities get
gaps with hundreds of lapsed holders each, beside the rare lines' natural gaps.
Then it times (median of ``--runs`` after a warm-up): the gaps alone
(``coverage_gaps``), the gaps with their candidates (``gaps_with_candidates``)
and the candidates alone (``gap_candidates`` on the gap rows), against a bare
``SELECT count(*) FROM measurement_standards`` of the same run.

The default database is a temporary SQLite file.  With ``--database-url``
(PostgreSQL) the database's ``public`` schema is DROPPED and recreated, so
the database name must contain "bench" unless ``--force`` is given.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench import refuse_unless_bench
from bench.coverage import ANCHOR, BASELINE, _analyze, _bench_config, _build, _median_ms, _reset_postgres

DISCIPLINES = ("01", "04", "12", "15", "23", "25", "28", "33", "37", "46")
LAPSED_CITIES = ("360200", "360500", "360600")
LAPSED_LINES = 5


def prepare(engine: sa.Engine) -> None:
    """Disciplines by each standard's first line, and five popular lines lapsed in three cities."""
    by_line = " ".join(f"WHEN {i} THEN '{code}'" for i, code in enumerate(DISCIPLINES))
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE measurement_standards SET discipline_code = CASE (SELECT min(l.catalog_line_id) % 10 "
            "FROM standard_catalog_lines l WHERE l.standard_id = measurement_standards.id) "
            f"{by_line} ELSE CASE id % 10 {by_line} END END"))
        first_line = conn.scalar(sa.text("SELECT min(id) FROM catalog_lines WHERE code = 'B00'"))
        lapsed_on = ANCHOR - timedelta(days=30)
        conn.execute(sa.text(
            "UPDATE measurement_standards SET valid_until = :until, issued_on = :issued "
            "WHERE category = 'social_public' AND id IN (SELECT l.standard_id FROM standard_catalog_lines l "
            "WHERE l.catalog_line_id BETWEEN :first AND :last) "
            "AND institution_id IN (SELECT id FROM institutions WHERE region_code IN :cities)"
        ).bindparams(sa.bindparam("cities", expanding=True)),
            {"until": lapsed_on, "issued": lapsed_on - timedelta(days=4 * 365 - 1), "first": first_line,
             "last": first_line + LAPSED_LINES - 1, "cities": list(LAPSED_CITIES)})
    _analyze(engine)


def run(size: int, url: str | None, runs: int) -> None:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.coverage import services
    from registry.coverage.candidates import gap_candidates, gaps_with_candidates
    from registry.extensions import db
    from registry.seed.reference import load_reference_data

    workdir = None
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        _reset_postgres(url)
    app = create_app(_bench_config(url))
    try:
        with app.app_context():
            started = time.perf_counter()
            upgrade()
            load_reference_data(plan_start=app.config["PLAN_START_DATE"])
            db.session.commit()
            _build(db.engine, size)
            prepare(db.engine)
            print(f"\n{db.engine.dialect.name}, {size:,} standards: built in {time.perf_counter() - started:.1f} s")

            gaps = services.coverage_gaps(ANCHOR)
            found, confirmed = gap_candidates(gaps)
            listed = sum(len(entry.candidates) for entry in found)
            total = sum(entry.candidate_count for entry in found)
            print(f"gaps: {len(found)} (province {gaps.uncovered_count}, cities "
                  f"{sum(e.uncovered_count for e in gaps.by_region)}); candidates {total:,} "
                  f"({listed:,} listed, at most 10 a gap); neighbours confirmed: {confirmed}")
            by_reason: dict[str, int] = {}
            for entry in found:
                for candidate in entry.candidates:
                    by_reason[candidate.reason] = by_reason.get(candidate.reason, 0) + 1
            print("listed candidates by best reason: " + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items())))
            db.session.rollback()

            calls = [
                (f"baseline: {BASELINE}", lambda: db.session.execute(sa.text(BASELINE)).scalar_one()),
                ("gaps alone (coverage_gaps)", lambda: services.coverage_gaps(ANCHOR).to_dict()),
                ("candidates alone (gap_candidates on the gaps)", lambda: gap_candidates(gaps)),
                ("gaps with candidates (gaps_with_candidates)", lambda: gaps_with_candidates(ANCHOR).to_dict()),
            ]
            print(f"\nmedian of {runs} runs after a warm-up; ratio = median / baseline of the same run")
            baseline = None
            for name, call in calls:
                median, low, high = _median_ms(call, runs)
                db.session.rollback()
                baseline = baseline or median
                print(f"  {name:<52}{median:>10.1f} ms  (min {low:.1f}, max {high:.1f}; {median / baseline:.1f}×)")
    finally:
        with app.app_context():
            db.engine.dispose()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.candidates", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="number of standards (default 100000)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped and recreated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per operation (median; default 5)")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 1,000 standards, to check the benchmark still runs (the figures mean nothing)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size = 1000
    if args.database_url:
        if sa.engine.make_url(args.database_url).get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite uses a temporary file)")
        refuse_unless_bench(parser, args.database_url, args.force)
    run(args.size, args.database_url, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
