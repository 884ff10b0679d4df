"""Benchmark the coverage service on a generated province.

    python -m bench.coverage [--sizes 100000,1000000] [--database-url URL] [--runs 5]

For each size N it builds, in a fresh database, N measurement standards with
about N/12 institutions across the 11 cities, N/2 people, a 62-line catalog
and about one catalog link per standard, then times (median of ``--runs`` after one
warm-up) the province indicator set, the by-city table and the 24-month
forecast, against a baseline measured in the same run: a bare
``SELECT count(*) FROM measurement_standards``.

The default database is a temporary SQLite file.  With ``--database-url``
(PostgreSQL) the database's ``public`` schema is DROPPED and recreated, so
the database name must contain "bench" unless ``--force`` is given.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa

from bench import refuse_unless_bench

ANCHOR = date(2026, 11, 1)
CITIES = ("360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100")
LINES = 62
VALIDITY_DAYS = 4 * 365
BASELINE = "SELECT count(*) FROM measurement_standards"
OPERATIONS = frozenset({"province", "city", "regions", "forecast", "gaps", "expiring"})
STANDARD_NAMES = ("砝码标准装置", "电能表检定装置", "水表检定装置", "燃气表检定装置", "血压计检定装置", "声级计检定装置",
                  "加油机检定装置", "体温计检定装置", "测速仪检定装置", "气体检测仪检定装置")


# --------------------------------------------------------------------------- database set-up

def _bench_config(url: str):
    import config

    class BenchConfig(config.Config):
        SECRET_KEY = "bench-only"
        SQLALCHEMY_DATABASE_URI = url
        LOG_LEVEL = "WARNING"

    return BenchConfig()


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _bulk_insert(engine: sa.Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows with COPY on PostgreSQL and executemany on SQLite; return the count."""
    count = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            batch: list[tuple] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) == 50_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    return count


# --------------------------------------------------------------------------- the generated province

def _next_ids(engine: sa.Engine) -> dict[str, int]:
    """The first free id of each table the builder fills with explicit ids (0 in an empty database)."""
    with engine.connect() as conn:
        return {table: conn.scalar(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}"))
                for table in ("institutions", "catalog_lines", "measurement_standards", "persons")}


def _build(engine: sa.Engine, size: int, seed: int = 20261128) -> dict[str, int]:
    """Add the generated province; ids follow any rows already there (``bench.load`` adds it to the demo)."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    audit = (now, now, 1)  # created_at, updated_at, version
    counts: dict[str, int] = {}
    base = _next_ids(engine)
    inst0, std0, person0 = base["institutions"], base["measurement_standards"], base["persons"]

    n_institutions = max(len(CITIES), size // 12)
    kinds = []
    for i in range(n_institutions):
        kinds.append("legal_metrology" if i % 10 == 0 else "authorised" if i % 10 in (1, 2)
                     else rng.choice(("enterprise", "enterprise", "public_institution", "other")))
    counts["institutions"] = _bulk_insert(
        engine, "institutions",
        ("id", "credit_code", "name", "region_code", "kind", "created_at", "updated_at", "version", "is_demo"),
        ((inst0 + i + 1, f"12{CITIES[i % 11]}B{i:09d}", f"基准机构{i}", CITIES[i % 11], kinds[i], *audit, False)
         for i in range(n_institutions)),
    )
    public_holders = [inst0 + i + 1 for i, kind in enumerate(kinds) if kind in ("legal_metrology", "authorised")]
    other_holders = [inst0 + i + 1 for i, kind in enumerate(kinds) if kind not in ("legal_metrology", "authorised")]
    legal = [inst0 + i + 1 for i, kind in enumerate(kinds) if kind == "legal_metrology"]

    with engine.begin() as conn:
        version_id = conn.execute(sa.text(
            "INSERT INTO catalog_versions (name, source_document, effective_from, declared_line_count, is_partial, "
            "created_at, updated_at, version) VALUES ('基准目录', 'bench', :eff, 62, :partial, :now, :now, 1) "
            "RETURNING id"), {"eff": date(2022, 1, 1), "partial": False, "now": now}).scalar_one()
    first_line = max(1000, base["catalog_lines"] + 1)
    line_ids = list(range(first_line, first_line + LINES))
    counts["catalog_lines"] = _bulk_insert(
        engine, "catalog_lines",
        ("id", "catalog_version_id", "code", "name", "mode", "effective_from", "created_at", "updated_at", "version"),
        ((line_id, version_id, f"B{n:02d}", f"基准器具{n:02d}", "P" if n >= 58 else "P+V" if n % 7 == 0 else "V",
          date(2023, 1, 1) if n % 20 == 19 else None, *audit) for n, line_id in enumerate(line_ids)),
    )
    # Popular instruments (scales, meters) have many standards, rare ones a few: some cities have gaps.
    weights = [1 / (rank + 1) for rank in range(LINES - 2)]
    linkable = line_ids[:LINES - 2]

    links: list[tuple[int, int]] = []
    in_use_public: list[tuple[int, date]] = []

    def standards() -> Iterable[tuple]:
        for i in range(std0 + 1, std0 + size + 1):
            public = rng.random() < 0.55
            holder = rng.choice(public_holders if public else other_holders)
            issued = ANCHOR - timedelta(days=rng.randint(0, VALIDITY_DAYS + 500))
            status = rng.choices(("in_use", "sealed", "revoked", "changing"), (94, 3, 2, 1))[0]
            since = None if status == "in_use" else issued + timedelta(days=rng.randint(30, 900))
            carbon = rng.random() < 0.04
            if public and status == "in_use":
                in_use_public.append((i, issued))
            if public:
                for line_id in set(rng.choices(linkable, weights, k=rng.choice((1, 1, 2, 2, 3)))):
                    links.append((i, line_id))
            yield (i, f"[{issued.year}]赣量标基准证字第{i}号", STANDARD_NAMES[i % len(STANDARD_NAMES)],
                   "social_public" if public else rng.choice(("enterprise_highest", "department_highest")),
                   holder, issued, issued + timedelta(days=VALIDITY_DAYS - 1), status, since, carbon,
                   rng.choice(("new", "renovated")) if carbon else None, issued if carbon else None,
                   now if rng.random() < 0.005 else None, *audit, False)

    counts["measurement_standards"] = _bulk_insert(
        engine, "measurement_standards",
        ("id", "certificate_no", "name", "category", "institution_id", "issued_on", "valid_until", "status",
         "status_since", "is_carbon", "build_kind", "built_on", "withdrawn_at", "created_at", "updated_at", "version",
         "is_demo"),
        standards(),
    )
    counts["standard_catalog_lines"] = _bulk_insert(engine, "standard_catalog_lines",
                                                    ("standard_id", "catalog_line_id"), links)
    # 1 in 200 of the social public standards in use was sealed for a while in the past (a period of
    # standard_status_periods, its own random draws: the rest of the data set is the same with or without).
    periods_rng = random.Random(seed + 16)
    periods = []
    for standard_id, issued in in_use_public:
        if periods_rng.random() < 0.005:
            started = issued + timedelta(days=periods_rng.randint(0, VALIDITY_DAYS - 400))
            unknown_start = periods_rng.random() < 0.1
            periods.append((standard_id, "sealed", None if unknown_start else started,
                            started + timedelta(days=periods_rng.randint(30, 360)), now))
    counts["standard_status_periods"] = _bulk_insert(
        engine, "standard_status_periods", ("standard_id", "status", "started_on", "ended_on", "created_at"), periods)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE measurement_standards SET has_status_periods = true WHERE id IN "
                             "(SELECT standard_id FROM standard_status_periods)"))

    def persons() -> Iterable[tuple]:
        for i in range(person0 + 1, person0 + size // 2 + 1):
            holder = rng.choice(legal) if rng.random() < 0.45 else inst0 + rng.randint(1, n_institutions)
            employed_from = ANCHOR - timedelta(days=rng.randint(30, 9000))
            employed_until = employed_from + timedelta(days=rng.randint(200, 3000)) if rng.random() < 0.08 else None
            registered = rng.random() < 0.55
            registered_on = max(employed_from, ANCHOR - timedelta(days=rng.randint(0, 2000))) if registered else None
            yield (i, f"基准人员{i}", holder, employed_from, employed_until, f"B-{i}" if registered else None,
                   "2" if registered else None, registered_on,
                   registered_on + timedelta(days=5 * 365 - 1) if registered else None,
                   now if rng.random() < 0.005 else None, *audit, False)

    counts["persons"] = _bulk_insert(
        engine, "persons",
        ("id", "name", "institution_id", "employed_from", "employed_until", "registration_no", "registration_level",
         "registered_on", "registration_valid_until", "withdrawn_at", "created_at", "updated_at", "version", "is_demo"),
        persons(),
    )

    def regulations() -> Iterable[tuple]:
        for i in range(300):
            local = i < 200
            series = "JJG" if i % 3 else "JJF"
            published = date(2012 + i % 15, 1 + i % 12, 1 + i % 27)
            status = "planned" if i % 13 == 0 else "abolished" if i % 17 == 0 else "published"
            yield (f"{series}{'(赣)' if local else ''} {1000 + i}-{published.year}", series, "赣" if local else None,
                   str(1000 + i), published.year, f"基准规程{i}",
                   "verification_regulation" if series == "JJG" else "calibration_specification",
                   "local" if local else "national", status, None if status == "planned" else published,
                   published + timedelta(days=1500) if status == "abolished" else None, i % 4 != 0, i % 9 == 0,
                   *audit, False)

    counts["regulations"] = _bulk_insert(
        engine, "regulations",
        ("code", "series", "province", "number", "year", "title", "kind", "level", "status", "published_on",
         "abolished_on", "is_urgent", "is_carbon", "created_at", "updated_at", "version", "is_demo"),
        regulations(),
    )
    recorded = [(key, region, date(year, 12, 31), rng.randint(0, 9), "基准录入", now, 1, False)
                for key in ("national_industrial_centers", "provincial_industrial_centers", "integrity_units")
                for region in ("360000", *CITIES) for year in (2022, 2023, 2024, 2025)]
    counts["recorded_values"] = _bulk_insert(
        engine, "recorded_values",
        ("indicator_key", "region_code", "as_of", "value", "source", "recorded_at", "version", "is_demo"), recorded)

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("institutions", "catalog_lines", "measurement_standards", "persons"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))")
    _analyze(engine)
    return counts


def _analyze(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        # A settled database, as autovacuum leaves it: statistics and a visibility map.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            try:
                # Flush the bulk load now rather than during the timings.
                conn.exec_driver_sql("CHECKPOINT")
            except sa.exc.DBAPIError:
                print("(CHECKPOINT not allowed for this role: timings may include the bulk load's writes)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# --------------------------------------------------------------------------- timing

def _median_ms(call: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def _explain(app, call: Callable[[], Any]) -> None:
    """Print EXPLAIN ANALYZE for every statement ``call`` issues (PostgreSQL)."""
    from registry.extensions import db

    captured: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in captured:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            print("-" * 100)
            print(statement.strip()[:400])
            print(plan)
        raw.rollback()
    finally:
        raw.close()


def _add_next_plan() -> None:
    """A 2026–2030 plan with the seeded plan's province targets, as a regulator would add it (idempotent)."""
    from registry.extensions import db
    from registry.indicators.models import Plan
    from registry.indicators.services import create_plan, create_target

    if db.session.scalar(sa.select(Plan).where(Plan.name == "2026–2030")) is not None:
        return
    first = db.session.scalar(sa.select(Plan).order_by(Plan.starts_on))
    plan = create_plan({"name": "2026–2030", "starts_on": date(2026, 1, 1), "deadline": date(2030, 12, 31)},
                       actor=None)
    for target in first.targets:
        create_target({"plan_id": plan.id, "indicator_key": target.indicator_key, "region_code": target.region_code,
                       "comparator": target.comparator, "target": target.target,
                       "target_max": target.target_max}, actor=None)


def _drop_next_plan() -> None:
    """Take out the 2026–2030 plan an earlier run added, so the seeded plan's deadline is past again."""
    from registry.extensions import db

    db.session.execute(sa.text("DELETE FROM plan_targets WHERE plan_id IN (SELECT id FROM plans "
                               "WHERE name = '2026–2030')"))
    db.session.execute(sa.text("DELETE FROM plans WHERE name = '2026–2030'"))
    db.session.commit()


def run(size: int, url: str | None, runs: int, explain: str | None, reuse: bool,
        only: set[str] | None = None) -> list[dict[str, Any]]:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.coverage import cache, services
    from registry.extensions import db
    from registry.seed.reference import load_reference_data

    workdir = None
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
        url = f"sqlite:///{workdir / 'bench.db'}"
    elif not reuse:
        _reset_postgres(url)
    app = create_app(_bench_config(url))
    results = []
    try:
        with app.app_context():
            engine = db.engine
            started = time.perf_counter()
            upgrade()
            existing = db.session.scalar(sa.text(BASELINE))
            db.session.commit()
            if reuse and existing == size:
                build_s, counts = 0.0, {"measurement_standards": existing}
                _drop_next_plan()
                _analyze(engine)
            else:
                if existing:
                    raise SystemExit(f"the database already holds {existing} standards; drop it or use --reuse")
                load_reference_data(plan_start=app.config["PLAN_START_DATE"])
                db.session.commit()
                counts = _build(engine, size)
                build_s = time.perf_counter() - started
            backend = engine.dialect.name
            print(f"\n{backend}, {size:,} standards: built in {build_s:.1f} s "
                  f"({', '.join(f'{k} {v:,}' for k, v in counts.items())})", flush=True)

            as_of = ANCHOR
            calls = {
                "baseline": (f"baseline: {BASELINE}", lambda: db.session.execute(sa.text(BASELINE)).scalar_one()),
                "province": ("province indicators (coverage_report)",
                             lambda: services.coverage_report(as_of).to_dict()),
                "city": ("city indicators (360100)", lambda: services.coverage_report(as_of, "360100").to_dict()),
                "regions": ("by city, 11 cities (coverage_by_region)",
                            lambda: services.coverage_by_region(as_of).to_dict()),
                "forecast": ("forecast, 24 month-ends (coverage_forecast)",
                             lambda: services.coverage_forecast(as_of, None, 24).to_dict()),
                "gaps": ("gaps, province and cities (coverage_gaps)",
                         lambda: services.coverage_gaps(as_of).to_dict()),
                "expiring": ("expiring in 6 months, first 100",
                             lambda: services.expiring_certificates(as_of, 6).to_dict()),
            }
            if explain and backend == "postgresql":
                _explain(app, calls[explain][1])

            def timed(label: str, call: Callable[[], Any], kept: bool = False) -> None:
                # Not kept: the report cache (its kept parts too) emptied before each run, as the first
                # request after a data change finds it; the rows to compare with code before the cache.
                measured = call if kept else (lambda: (cache.clear(), call()))
                median, low, high = _median_ms(measured, runs)
                db.session.rollback()
                results.append(dict(backend=backend, size=size, operation=label, median=median, low=low,
                                    high=high, ratio=median / baseline))

            chosen = [name for name in calls if name != "baseline" and (only is None or name in only)]
            baseline = _median_ms(calls["baseline"][1], runs)[0]
            results.append(dict(backend=backend, size=size, operation=calls["baseline"][0], median=baseline,
                                low=baseline, high=baseline, ratio=1.0))
            # The seeded plan (2021–2025) is past its deadline on the anchor date: each report also judges
            # every figure on that deadline.  First every operation as the first request after a change:
            for name in chosen:
                timed(f"{calls[name][0]}, not kept", calls[name][1])
            # Then as a later request finds the parts reports share kept (the deadline's figures, the
            # province's for a city's share, each city's uncovered lines), after the warm-up filled them:
            for name in chosen:
                if name in ("province", "city", "regions", "gaps"):
                    timed(f"{calls[name][0]}, kept parts", calls[name][1], kept=True)
            # With the next plan added as data, it is in force (one date per report):
            _add_next_plan()
            db.session.commit()
            for name in chosen:
                if name in ("province", "city", "regions", "forecast"):
                    timed(f"{calls[name][0]}, 2026–2030 plan in force, not kept", calls[name][1])
            report = services.coverage_report(as_of).to_dict()
            print("province figures: " + ", ".join(
                f"{i['key']}={i['value']}" for i in report["indicators"] if i["source"] == "registry"))
    finally:
        with app.app_context():
            db.engine.dispose()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def _print_table(results: list[dict[str, Any]], runs: int) -> None:
    print(f"\nmedian of {runs} runs after a warm-up; ratio = median / baseline of the same run "
          f"(baseline: {BASELINE})")
    header = f"{'backend':<11}{'standards':>11}  {'operation':<80}{'median ms':>11}{'min':>9}{'max':>9}{'ratio':>9}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['backend']:<11}{r['size']:>11,}  {r['operation'][:79]:<80}{r['median']:>11.1f}{r['low']:>9.1f}"
              f"{r['high']:>9.1f}{r['ratio']:>9.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coverage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated numbers of standards (default 100000)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped and recreated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per operation (median; default 5)")
    parser.add_argument("--explain", choices=("province", "city", "regions", "forecast", "gaps", "expiring"),
                        help="print EXPLAIN ANALYZE of that operation's queries (PostgreSQL)")
    parser.add_argument("--reuse", action="store_true",
                        help="time a PostgreSQL database already built at that size (by an earlier run) again")
    parser.add_argument("--only", help="comma-separated operations to time (province, city, regions, forecast, "
                                       "gaps, expiring; default all)")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 1,000 standards, to check the benchmark still runs (the figures mean nothing)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes = "1000"
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    if args.database_url:
        url = sa.engine.make_url(args.database_url)
        if url.get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite uses a temporary file)")
        refuse_unless_bench(parser, args.database_url, args.force)
    only = None if not args.only else {name.strip() for name in args.only.split(",") if name.strip()}
    if only and not only <= OPERATIONS:
        parser.error(f"--only takes {', '.join(sorted(OPERATIONS))}")
    if args.reuse and len(sizes) > 1:
        parser.error("--reuse takes one size")
    results = []
    for size in sizes:
        results += run(size, args.database_url, args.runs, args.explain, args.reuse, only)
    _print_table(results, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
