"""Load benchmark: the app under gunicorn, several clients at once, per endpoint.

    python -m bench.load [--database-url URL] [--size 100000] [--duration 30] [--clients 8] [--only NAMES]
                         [--port N] [--smoke]

Builds a registry holding the demo province plus ``--size`` generated
standards (``bench.coverage``'s builder: N/12 institutions, N/2 people, a
62-line catalog), serves it with gunicorn (``--workers``, default 2;
production settings with ``--redis-url``, development ones without, since
production refuses several workers counting rate limits in memory) and,
when the command exists, ``registry worker``; then drives each endpoint in
turn with ``--clients`` threads for ``--duration`` seconds (plain
``http.client``; gunicorn's sync workers close each connection) and prints
requests per second, the median and 99th percentile latency and the errors
(any answer but 200, or no answer):

- ``/public/?q=...`` (anyone; ``PUBLIC_QUERY_LIMIT`` is raised for the run,
  otherwise 60 searches a minute per address would turn most into 429s);
- ``/api/v1/standards?page_size=50`` and ``/api/v1/coverage`` (a bench
  regulator's bearer token);
- ``/dashboard`` (that regulator's session): the same page again and again
  (a report cache, when there is one, answers all but the first), and
  ``/dashboard?as_of=...`` with a different date on every request (never
  cached).

Before the load, each endpoint's first answer is timed alone (``first ms``).

Without ``--database-url`` the database is a temporary SQLite file; with a
PostgreSQL URL (its name must contain "bench" unless ``--force``) its
``public`` schema is dropped and rebuilt, unless ``--reuse`` finds it built
at that size.  ``--smoke`` (CI) runs 500 standards, 2 clients, 2 seconds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from bench import refuse_unless_bench

ROOT = Path(__file__).resolve().parent.parent
GOALS = {  # endpoint -> p50 goal in ms at 100,000 standards
    "dashboard": 100.0,
    "dashboard, new date each time": 1000.0,
    "standards, page_size 50": 50.0,
}
PUBLIC_QUERIES = ("", "水表", "电能表检定装置", "砝码", "[2024]", "演示")


# --------------------------------------------------------------------------- the database

def _count_generated(conn: sa.Connection) -> int:
    return conn.scalar(sa.text("SELECT count(*) FROM measurement_standards WHERE certificate_no LIKE :p"),
                       {"p": "%赣量标基准证字第%"}) or 0


def prepare(url: str, size: int, reuse: bool) -> tuple[str, str]:
    """Build (or reuse) the database; return a bench regulator's email and a fresh password."""
    from flask_migrate import upgrade

    from bench.coverage import _analyze, _bench_config, _build, _reset_postgres
    from registry import create_app
    from registry.auth.services import create_user
    from registry.extensions import db
    from registry.institutions.models import Institution
    from registry.seed.demo import create_demo_accounts, load_demo_data
    from registry.seed.reference import load_reference_data

    postgres = url.startswith("postgresql")
    if postgres and not reuse:
        _reset_postgres(url)
    app = create_app(_bench_config(url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            built = conn.scalar(sa.text("SELECT count(*) FROM institutions")) and _count_generated(conn)
        if reuse and built == size:
            print(f"reusing the database: demo data and {size:,} generated standards", flush=True)
            _analyze(db.engine)
        else:
            if built or db.session.scalar(sa.select(sa.func.count()).select_from(Institution)):
                raise SystemExit("the database is not empty and not built at this size: drop it, or leave --reuse")
            started = time.perf_counter()
            load_reference_data(plan_start=app.config["PLAN_START_DATE"])
            load_demo_data(validity_years=app.config["CERTIFICATE_VALIDITY_YEARS"])
            create_demo_accounts()  # as `registry seed --demo` leaves them (their passwords are not used here)
            db.session.commit()
            counts = _build(db.engine, size)
            print(f"built in {time.perf_counter() - started:.1f} s: demo province + "
                  + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)  # _build analyzed it
        email = f"bench-{secrets.token_hex(4)}@example.org"
        password = "bench-" + secrets.token_urlsafe(18)
        create_user(email=email, password=password, role="regulator", display_name="负载测试", actor=None)
        db.session.commit()
        db.engine.dispose()
    return email, password


# --------------------------------------------------------------------------- the servers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _registry_command() -> list[str]:
    script = Path(sys.executable).with_name("registry")
    return [str(script)] if script.exists() else [sys.executable, "-m", "registry"]


def server_env(url: str, workdir: Path, redis_url: str | None) -> dict[str, str]:
    """Production settings with Redis; without it, development ones (production refuses several workers
    counting rate limits in memory: gunicorn.conf.py)."""
    env = {**os.environ, "DATABASE_URL": url, "REGISTRY_ENV": "production" if redis_url else "development",
           "SECRET_KEY": secrets.token_hex(32),
           "REGISTRY_INSTANCE_DIR": str(workdir / "instance"), "SESSION_COOKIE_SECURE": "0", "HSTS_SECONDS": "0",
           "LOG_LEVEL": "WARNING",
           # 60 public searches a minute per address would answer most of the load with 429.
           "PUBLIC_QUERY_LIMIT": "1000000 per minute",
           "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
           "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["RATELIMIT_STORAGE_URI"] = redis_url
    return env


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    process = subprocess.Popen([*command, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop(process)
    raise SystemExit(f"gunicorn did not answer /healthz:\n{log.read_text(errors='replace')[-4000:]}")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen | None:
    """``registry worker`` when the command exists; None (and a note) when it does not."""
    probe = subprocess.run([*_registry_command(), "worker", "--help"], cwd=ROOT, env=env, capture_output=True)
    if probe.returncode != 0:
        print("note: no `registry worker` command in this version: the job worker is not started", flush=True)
        return None
    process = subprocess.Popen([*_registry_command(), "worker"], cwd=ROOT, env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(2)
    if process.poll() is not None:
        raise SystemExit(f"registry worker exited {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
    print("registry worker started", flush=True)
    return process


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --------------------------------------------------------------------------- HTTP

def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()} | {
            "set-cookie-all": response.headers.get_all("Set-Cookie") or []}, data
    finally:
        if own:
            conn.close()


def _cookies(headers: dict, jar: dict[str, str]) -> None:
    for line in headers.get("set-cookie-all", []):
        name, _, rest = line.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def authenticate(port: int, email: str, password: str) -> tuple[str, str]:
    """A bearer token (the API) and a session cookie header (the pages) for the bench regulator."""
    status, _, body = request(port, "POST", "/api/v1/auth/tokens",
                              json.dumps({"email": email, "password": password, "name": "bench.load"}).encode(),
                              {"Content-Type": "application/json"})
    if status != 201 and status != 200:
        raise SystemExit(f"token request answered {status}: {body[:500]!r}")
    token = json.loads(body)["token"]
    jar: dict[str, str] = {}
    status, headers, body = request(port, "GET", "/login")
    _cookies(headers, jar)
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if status != 200 or match is None:
        raise SystemExit(f"/login answered {status} without a CSRF token")
    form = urllib.parse.urlencode({"csrf_token": match.group(1).decode(), "email": email, "password": password})
    status, headers, body = request(port, "POST", "/login", form.encode(), {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    _cookies(headers, jar)
    if status != 302:
        raise SystemExit(f"signing in answered {status}")
    return token, "; ".join(f"{k}={v}" for k, v in jar.items())


# --------------------------------------------------------------------------- the load

@dataclass
class Result:
    name: str
    first_ms: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def drive(port: int, name: str, next_path: Callable[[int], str], headers: dict, clients: int,
          duration: float) -> Result:
    started = time.perf_counter()
    status, _, body = request(port, "GET", next_path(0), headers=headers)  # the first answer, alone
    result = Result(name, (time.perf_counter() - started) * 1000, duration)
    if status != 200:
        result.errors[f"first {status}"] = 1
    counter = iter(range(1, 10**9))
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        latencies, errors = [], {}
        while time.perf_counter() < stop_at:
            with lock:
                n = next(counter)
            began = time.perf_counter()
            try:
                status, _, _ = request(port, "GET", next_path(n), headers=headers, conn=conn)
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            if status == 200:
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            for key, value in errors.items():
                result.errors[key] = result.errors.get(key, 0) + value

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


LIST_ORDERS = [o for name in ("id", "name", "certificate_no", "valid_until", "issued_on") for o in (name, "-" + name)]


def endpoints(token: str, cookie: str, size: int) -> list[tuple[str, Callable[[int], str], dict]]:
    pages = max(1, size // 50)  # the generated standards' pages of 50 (the demo's few more are not asked for)
    bearer = {"Authorization": f"Bearer {token}"}
    session = {"Cookie": cookie}
    today = date.today()
    return [
        ("public search", lambda n: "/public/?" + urllib.parse.urlencode(
            {"q": PUBLIC_QUERIES[n % len(PUBLIC_QUERIES)]}), {}),
        ("standards, page_size 50", lambda n: "/api/v1/standards?page_size=50", bearer),
        # Every request a page and order not asked for before (10 orders x the pages): computed, not kept.
        ("standards, a new page each time", lambda n: "/api/v1/standards?page_size=50&page="
            f"{n % pages + 1}&sort={LIST_ORDERS[n // pages % len(LIST_ORDERS)]}", bearer),
        ("coverage (province)", lambda n: "/api/v1/coverage", bearer),
        ("dashboard", lambda n: "/dashboard", session),
        # A date no request has asked for before: whatever a report cache holds, this is computed.
        ("dashboard, new date each time", lambda n: f"/dashboard?as_of={today - timedelta(days=n + 1)}", session),
    ]


def print_table(results: list[Result], size: int, clients: int, backend: str) -> bool:
    print(f"\n{backend}, demo + {size:,} standards, {clients} clients; latencies in ms (answers 200 only)")
    header = f"{'endpoint':<32}{'first':>9}{'requests':>10}{'req/s':>9}{'p50':>9}{'p99':>9}  errors"
    print(header)
    print("-" * len(header))
    ok = True
    for r in results:
        errors = ", ".join(f"{k}×{v}" for k, v in sorted(r.errors.items())) or "0"
        print(f"{r.name:<32}{r.first_ms:>9.1f}{r.requests:>10}{len(r.latencies) / r.seconds:>9.1f}"
              f"{r.percentile(0.5):>9.1f}{r.percentile(0.99):>9.1f}  {errors}")
        ok = ok and not r.errors
    print()
    for r in results:
        goal = GOALS.get(r.name)
        if goal is not None and size >= 100_000:
            p50 = r.percentile(0.5)
            print(f"goal: {r.name} p50 < {goal:.0f} ms at 100,000 standards: {p50:.1f} ms "
                  f"{'ok' if p50 < goal else 'MISSED'}")
    if size < 100_000:
        print("(the latency goals are set at 100,000 standards: not checked at this size)")
    print(f"goal: no errors: {'ok' if ok else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (its public schema is rebuilt); default SQLite")
    parser.add_argument("--size", type=int, default=100_000, help="generated standards besides the demo data")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per endpoint")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, help="the port gunicorn listens on (default: a free one)")
    parser.add_argument("--redis-url", help="Redis for the rate limits (and what else uses REDIS_URL)")
    parser.add_argument("--reuse", action="store_true", help="keep a PostgreSQL database already built at --size")
    parser.add_argument("--only", help="comma-separated endpoint names (prefixes) to drive")
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    parser.add_argument("--smoke", action="store_true", help="CI: 500 standards, 2 clients, 2 s per endpoint")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.clients, args.duration = 500, 2, 2.0
    if args.database_url:
        url = sa.engine.make_url(args.database_url)
        if url.get_backend_name() != "postgresql":
            parser.error("--database-url must be a PostgreSQL URL (SQLite uses a temporary file)")
        refuse_unless_bench(parser, args.database_url, args.force)
    elif args.reuse:
        parser.error("--reuse needs --database-url")

    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    server = worker = None
    try:
        email, password = prepare(url, args.size, args.reuse)
        env = server_env(url, workdir, args.redis_url)
        port = args.port or _free_port()
        server = start_gunicorn(env, port, args.workers, workdir / "gunicorn.log")
        worker = start_worker(env, workdir / "worker.log")
        token, cookie = authenticate(port, email, password)
        print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}, REGISTRY_ENV={env['REGISTRY_ENV']}"
              f"{' (no --redis-url)' if not args.redis_url else ''}; PUBLIC_QUERY_LIMIT raised to "
              f"{env['PUBLIC_QUERY_LIMIT']!r} for the run; {args.clients} clients, {args.duration:g} s each",
              flush=True)
        results = []
        for name, path, headers in endpoints(token, cookie, args.size):
            if args.only and not any(name.startswith(p.strip()) for p in args.only.split(",")):
                continue
            results.append(drive(port, name, path, headers, args.clients, args.duration))
            r = results[-1]
            print(f"  {name}: {len(r.latencies) / r.seconds:.1f} req/s, p50 {r.percentile(0.5):.1f} ms, "
                  f"errors {sum(r.errors.values())}", flush=True)
        ok = print_table(results, args.size, args.clients, sa.engine.make_url(url).get_backend_name())
    finally:
        stop(worker)
        stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
