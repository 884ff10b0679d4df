"""Time the public certificate check: one number in every printed spelling, at N standards.

    python -m bench.public_check [--size 100000] [--database-url URL] [--runs 15] [--smoke]

It builds the province of ``bench.coverage`` (N standards) in a fresh
database, fills each standard's certificate search key and public page id
(``fill_search_keys``: the benchmark writes its rows with COPY, around the
services), and times through the Flask test client (no sign-in, the rate
limit off) the median of ``--runs`` requests, after a warm-up, of
``/public/?q=`` for one certificate number in ten spellings, a part of a
number, a name, ``/public/regulations?q=`` for a code in five spellings, and
the standard's public page, against a bare ``SELECT count(*) FROM
measurement_standards`` of the same run.  Each request is checked to find
what it should.

The default database is a temporary SQLite file.  With ``--database-url``
(PostgreSQL) the database's ``public`` schema is DROPPED and recreated, so
the database name must contain "bench" unless ``--force`` is given.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from bench import refuse_unless_bench
from bench.coverage import BASELINE, _analyze, _build, _reset_postgres


def _config(url: str):
    import config

    class BenchConfig(config.Config):
        SECRET_KEY = "bench-only"
        SQLALCHEMY_DATABASE_URI = url
        LOG_LEVEL = "WARNING"
        RATELIMIT_ENABLED = False
        SESSION_COOKIE_SECURE = False

    return BenchConfig()


def spellings(year: int, serial: int) -> list[str]:
    """Ten ways one certificate number is printed or typed."""
    full = str.maketrans("0123456789", "０１２３４５６７８９")
    return [
        f"[{year}]赣量标基准证字第{serial}号",
        f"〔{year}〕赣量标基准证字第{serial}号",
        f"［{year}］赣量标基准证字第{serial:07d}号",
        f"({year})赣量标基准证字第{serial:06d}号",
        f"（{year}）赣量标基准证字第{serial}号",
        f"{year}赣量标基准证字第{serial}号",
        f"{year} 赣量标基准证字第 {serial} 号",
        f"〔{year}〕赣量标基准证字第{serial}号".translate(full),
        f" [ {year} ] 赣量标 基准证字 第 0{serial} 号 ",
        f"【{year}】赣量标基准证字第00{serial}号",
    ]


def _median_ms(call, runs: int) -> float:
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run(size: int, url: str | None, runs: int) -> None:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.extensions import db
    from registry.seed.reference import load_reference_data
    from registry.standards.services import fill_search_keys

    workdir = None
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="registry-bench-"))
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        _reset_postgres(url)
    app = create_app(_config(url))
    try:
        with app.app_context():
            started = time.perf_counter()
            upgrade()
            load_reference_data(plan_start=app.config["PLAN_START_DATE"])
            db.session.commit()
            _build(db.engine, size)
            filled = fill_search_keys()
            db.session.commit()
            _analyze(db.engine)
            print(f"\n{db.engine.dialect.name}, {size:,} standards: built in {time.perf_counter() - started:.1f} s "
                  f"({filled:,} search keys filled)")
            target = db.session.execute(sa.text(
                "SELECT s.certificate_no, s.public_id, s.name FROM measurement_standards s "
                "WHERE s.category = 'social_public' AND s.withdrawn_at IS NULL AND s.id >= :middle "
                "ORDER BY s.id LIMIT 1"), {"middle": size // 2}).one()
            code = db.session.scalar(sa.text(
                "SELECT code FROM regulations WHERE level = 'local' AND status = 'published' ORDER BY id LIMIT 1"))
            db.session.rollback()
            year, serial = int(target.certificate_no[1:5]), int(target.certificate_no.split("第")[1].rstrip("号"))
            series, rest = code.split("(")
            number, code_year = rest.split(") ")[1].split("-")

            client = app.test_client()
            requests: list[tuple[str, str, str]] = [
                (f"number: {s.strip()}", f"/public/?q={quote(s)}", target.certificate_no)
                for s in spellings(year, serial)]
            requests += [
                ("part of a number: 赣量标基准证字第{serial}", f"/public/?q={quote(f'赣量标基准证字第{serial}号')}",
                 target.certificate_no),
                ("name: 砝码标准装置 (many rows)", f"/public/?q={quote('砝码标准装置')}", "砝码标准装置"),
            ]
            requests += [(f"code: {c}", f"/public/regulations?q={quote(c)}", code) for c in (
                code, f"{series}赣{number}-{code_year}", f"{series} 赣 {number} {code_year}",
                f"{series}（赣）{number}—{code_year}", f"{series.lower()}〔赣〕{number}－{code_year}")]
            requests.append(("the standard's public page", f"/public/s/{target.public_id}", target.certificate_no))

            def baseline():
                db.session.execute(sa.text(BASELINE)).scalar_one()
                db.session.rollback()

            base = _median_ms(baseline, runs)
            print(f"\nmedian of {runs} requests after a warm-up (Flask test client, whole response); "
                  f"ratio = median / baseline ({BASELINE}: {base:.1f} ms)")
            worst = 0.0
            for label, path, expected in requests:
                response = client.get(path)
                body = response.get_data(as_text=True)
                if response.status_code != 200 or expected not in body:
                    raise SystemExit(f"{label}: {path} did not find {expected!r} ({response.status_code})")
                median = _median_ms(lambda: client.get(path), runs)
                if label.startswith(("number", "code")):
                    worst = max(worst, median)
                print(f"  {label[:58]:<60}{median:>8.1f} ms  ({median / base:.0f}×)")
            print(f"slowest whole number or code (whole request): {worst:.1f} ms")

            from datetime import date

            from registry.public.queries import public_standards_query

            def sql_only(text: str) -> None:
                stmt = public_standards_query({"q": text}, today=date.today())
                db.session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar()
                db.session.execute(stmt.limit(25)).all()
                db.session.rollback()

            sql = [_median_ms(lambda text=text: sql_only(text), runs) for text in spellings(year, serial)]
            print(f"the query alone (count and first page of 25), ten spellings: "
                  f"median {statistics.median(sql):.1f} ms, slowest {max(sql):.1f} ms")
    finally:
        with app.app_context():
            db.engine.dispose()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.public_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="number of standards (default 100000)")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped and recreated")
    parser.add_argument("--runs", type=int, default=15, help="timed requests per address (median; default 15)")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 1,000 standards, to check the benchmark still runs (the figures mean nothing)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.runs = 1000, 3
    if args.database_url:
        if sa.engine.make_url(args.database_url).get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite uses a temporary file)")
        refuse_unless_bench(parser, args.database_url, args.force)
    run(args.size, args.database_url, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
