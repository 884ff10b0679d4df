"""Time the dashboard and the coverage API with and without the report cache.

    python -m bench.dashboard [--database-url URL] [--runs 15] [--smoke]

Without ``--database-url`` it migrates a temporary SQLite file and loads the
demo province into it (about 4,000 standards; ``registry seed --demo``).  With
one, it reads that database as it is (seed it first:
``DATABASE_URL=URL registry db upgrade && registry seed --demo``) and writes
only a bench account when it has no regulator (one row and its audit row,
before anything is timed).

Through the Flask test client, signed in as a regulator, it prints the median
of ``--runs`` requests (after a warm-up) of ``/dashboard`` (the province and
one city) and ``/api/v1/coverage``: uncached (``CACHE_TYPE=NullCache``, which
is how every request ran before the cache) and cached (``SimpleCache``, the
warm-up filled it), with the ratio, against a baseline measured in the same
run: a bare ``SELECT count(*) FROM measurement_standards``.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

URLS = {
    "dashboard, province": "/dashboard",
    "dashboard, one city (360100)": "/dashboard?region=360100",
    "API /coverage, province": "/api/v1/coverage",
}
BASELINE = "SELECT count(*) FROM measurement_standards"


def _config(url: str, cache_type: str):
    import config

    class BenchConfig(config.Config):
        SECRET_KEY = "bench-only"
        SQLALCHEMY_DATABASE_URI = url
        LOG_LEVEL = "WARNING"
        CACHE_TYPE = cache_type
        CACHE_NO_NULL_WARNING = True
        SESSION_COOKIE_SECURE = False

    return BenchConfig()


def _median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm-up (and, cached, the entry)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _prepare_sqlite(path: Path) -> str:
    from flask_migrate import upgrade

    from registry import create_app
    from registry.extensions import db
    from registry.seed.demo import load_demo_data
    from registry.seed.reference import load_reference_data

    url = f"sqlite:///{path}"
    app = create_app(_config(url, "NullCache"))
    with app.app_context():
        upgrade()
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        load_demo_data(validity_years=app.config["CERTIFICATE_VALIDITY_YEARS"])
        db.session.commit()
        db.engine.dispose()
    return url


def _regulator_session_id(app) -> str:
    from registry.auth.models import User
    from registry.extensions import db

    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.role.in_(("regulator", "admin")), User.active)
                                  .order_by(User.id).limit(1)).first()
        if user is None:
            from registry.auth.services import create_user

            user = create_user(email="bench-regulator@example.org", role="regulator",
                               password="a bench-only passphrase 2026", actor=None)
            db.session.commit()
        return user.get_id()


def _time_app(url: str, cache_type: str, session_id: str, runs: int) -> dict[str, float]:
    from registry import create_app
    from registry.extensions import db

    app = create_app(_config(url, cache_type))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = session_id, True
    out = {}
    with app.app_context():
        out["baseline"] = _median_ms(lambda: db.session.execute(sa.text(BASELINE)).scalar(), runs)
        db.session.remove()

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}\n{response.get_data(as_text=True)[:500]}")

    for name, path in URLS.items():
        out[name] = _median_ms(lambda: get(path), runs)
    with app.app_context():
        db.engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a seeded registry database (default: a temporary SQLite demo)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="CI: 2 requests each (the benchmark still runs)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.runs = 2

    tmp = None
    try:
        if args.database_url:
            url = args.database_url
        else:
            tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
            started = time.perf_counter()
            url = _prepare_sqlite(tmp / "registry.db")
            print(f"demo province loaded into a temporary SQLite file in {time.perf_counter() - started:.1f} s")
        from registry import create_app

        session_id = _regulator_session_id(create_app(_config(url, "NullCache")))
        uncached = _time_app(url, "NullCache", session_id, args.runs)
        cached = _time_app(url, "SimpleCache", session_id, args.runs)
        with create_app(_config(url, "NullCache")).app_context():
            from registry.extensions import db

            standards = db.session.execute(sa.text(BASELINE)).scalar()
        engine = sa.engine.make_url(url).get_backend_name()
        print(f"{engine}, {standards} standards, median of {args.runs} requests (ms); ratio to the baseline in brackets")
        baseline = statistics.median([uncached["baseline"], cached["baseline"]])
        print(f"{'':32} {'uncached':>16} {'cached':>16} {'uncached/cached':>16}")
        print(f"{'baseline: ' + BASELINE[:20] + '…':32} {baseline:16.2f}")
        for name in URLS:
            before, after = uncached[name], cached[name]
            print(f"{name:32} {before:9.1f} ({before / baseline:4.0f}×) {after:9.1f} ({after / baseline:4.0f}×) "
                  f"{before / after:15.1f}×")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
