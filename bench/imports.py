"""Benchmark the Excel import and export against their raw floors.

    python -m bench.imports [--rows 100000] [--runs 3] [--database-url URL] [--smoke]

Generates a standards sheet (15 columns) with its institutions, every row
naming a discipline by name, catalog lines by name, a range and an
uncertainty, then measures, each step in a fresh subprocess (so peak memory
is per step):

- raw floor: calamine parse of the workbook plus a plain DB-API
  ``executemany`` of the same rows into an empty 15-column table, measured
  just before each of the two imports below (each import's ratio to its own
  floor is printed beside the ratio of the medians);
- import into an empty, freshly migrated database (reference data loaded),
  in process (``run_import``, timed from the call to the commit);
- re-import of the unchanged file into that database;
- the same import as a user runs it: ``registry import FILE`` in a new
  process on a freshly migrated database, wall time (start-up included);
- export of the standards vs a bare openpyxl write-only dump of the same rows.

Without ``--database-url`` the database is a temporary SQLite file; with a
PostgreSQL URL the benchmark drops and recreates that database's ``public``
schema (its name must contain "bench" unless ``--force``).  ``--smoke``
runs 2,000 rows once (CI: the benchmark still works).  Medians of ``--runs`` runs are printed
with the ratios the issue sets as goals.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench import refuse_unless_bench, reset_database

GOALS = {"import / floor": 3.0, "CLI import / floor": 3.0, "reimport / import": 1.0, "export / dump": 1.5}
CITIES = ["360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100"]
# name, discipline (by name, as people type it), catalog lines (by name, as people type them), range and
# uncertainty patterns (numbers vary from row to row, as in a real register).
NAMES = [("水表检定装置", "力学", "水表", "({lo}~{hi}) m³/h", "U={u}%, k=2"),
         ("电能表检定装置", "电磁学", "电能表", "(0~{hi}) A", "{u}级"),
         ("E2等级砝码标准装置", "力学", "非自动衡器；电子计价秤", "(1 mg~{hi}) kg", "E2级"),
         ("医用电子体温计检定装置", "热学", "体温计", "({lo}~42) ℃", "U={u} ℃, k=2"),
         ("燃气表检定装置", "力学", "燃气表", "({lo}~{hi}) m³/h", "U={u}%, k=2"),
         ("声级计检定装置", "声学", "声级计", "({lo}~140) dB", "U={u} dB, k=2"),
         ("燃油加油机检定装置", "力学", "燃油加油机", "({lo}~{hi}) L/min", "MPE: ±{u}%"),
         ("血压计检定装置", "力学", "血压计（表）", "(0~{hi}) kPa", "MPE: ±{u} kPa")]
DISCIPLINE_CODES = {"热学": "04", "力学": "12", "电磁学": "15", "声学": "33"}  # JJF 1022, for the floor's raw rows


# --- the workbook -------------------------------------------------------------------


def generate(path: Path, rows: int) -> None:
    """Write the benchmark workbook: institutions, then ``rows`` standards (15 columns).

    Every standard names a discipline by name (专业), at least one catalog line by name
    (覆盖强检项目), a measuring range and an uncertainty, as an institution's register does.
    """
    from openpyxl import Workbook

    from registry.records.codes import credit_code_check_char

    rng = random.Random(20261128)
    wb = Workbook(write_only=True)
    institutions = wb.create_sheet("机构")
    institutions.append(["统一社会信用代码*", "机构名称*", "所属地区*", "机构类型*", "联系人", "联系电话"])
    codes = []
    for n in range(max(1, rows // 100)):
        city = CITIES[n % len(CITIES)]
        body = f"12{city}B{n:08d}"
        codes.append(body + credit_code_check_char(body))
        institutions.append([codes[-1], f"基准测试计量所{n:05d}", city, "法定计量检定机构", "王伟", "0791-88000000"])
    standards = wb.create_sheet("计量标准")
    standards.append(["证书编号*", "计量标准名称*", "计量标准代码", "类别*", "建标单位统一社会信用代码*", "专业", "测量范围",
                      "不确定度/准确度等级/最大允许误差", "发证机关", "发证日期*", "有效期至*", "状态", "覆盖强检项目",
                      "双碳相关", "新建/改造"])
    for n in range(rows):
        name, discipline, lines, range_pattern, uncertainty_pattern = NAMES[n % len(NAMES)]
        issued = date(2021, 1, 1) + timedelta(days=rng.randint(0, 1500))
        carbon = discipline in ("热学", "电磁学") and n % 10 == 0
        range_text = range_pattern.format(lo=rng.choice((0, 0.01, 0.1, 1, 2, 5, 10, 20, 35)),
                                          hi=rng.choice((6, 10, 16, 25, 40, 60, 80, 100, 160, 250, 400, 600)))
        uncertainty = uncertainty_pattern.format(u=rng.choice((0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)))
        standards.append([
            f"[{issued.year}]赣量标基准证字第{n:06d}号", name, f"{rng.randint(10, 99)}{rng.randint(100000, 999999)}",
            "社会公用", codes[n % len(codes)], discipline, range_text, uncertainty, "江西省市场监督管理局", issued,
            issued + timedelta(days=4 * 365), "在用", lines, "是" if carbon else "否", "新建" if carbon else None,
        ])
    wb.save(path)


# --- steps, each run in a child process ---------------------------------------------


def _app(url: str):
    from config import TestingConfig
    from registry import create_app

    cfg = TestingConfig()
    cfg.SQLALCHEMY_DATABASE_URI = url
    cfg.IMPORT_MAX_ROWS = 1_000_000
    cfg.MAX_CONTENT_LENGTH = 500 * 1024 * 1024
    return create_app(cfg)


def step_fresh(url: str) -> dict:
    """Empty the database, migrate it and load the reference data (not timed)."""
    from registry.extensions import db
    from registry.seed.reference import load_reference_data

    app = _app(url)
    reset_database(app)
    with app.app_context():
        load_reference_data(plan_start=app.config["PLAN_START_DATE"])
        db.session.commit()
    return {}


def step_floor(url: str, workbook: str) -> dict:
    """Calamine parse plus a plain executemany of the same rows into an empty table.

    Two tables: a bare one (15 text columns, no index), the floor the issue
    names, and the registry's own (the rows mapped onto its columns, with its
    indexes, checks and foreign keys, no validation and no audit rows), which
    shows how much of an import is the database's own work.  The second
    leaves rows behind: run ``fresh`` before importing.
    """
    import python_calamine
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    marker = "%s" if postgres else "?"
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_floor")
        conn.exec_driver_sql(f"CREATE TABLE bench_floor (id {'serial' if postgres else 'integer'} primary key, "
                             + ", ".join(f"c{i} text" for i in range(15)) + ")")
    started, cpu_started = time.perf_counter(), time.process_time()
    book = python_calamine.CalamineWorkbook.from_path(workbook)
    sheets = {}
    for name in book.sheet_names:
        it = book.get_sheet_by_name(name).iter_rows()
        next(it)
        sheets[name] = [tuple(None if v == "" else v for v in r) for r in it]
    parsed = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(f"INSERT INTO bench_floor ({', '.join(f'c{i}' for i in range(15))}) "
                           f"VALUES ({', '.join([marker] * 15)})",
                           [tuple(None if v is None else str(v) for v in r) for r in sheets["计量标准"]])
        raw.commit()
        bare, cpu_bare = time.perf_counter(), time.process_time()

        # The same rows straight into the registry's tables.
        now = "2026-01-01 00:00:00.000000" if not postgres else datetime.now(timezone.utc)
        day = (lambda d: d) if postgres else (lambda d: d.isoformat())
        flag = (lambda b: b) if postgres else int
        cursor.executemany(
            "INSERT INTO institutions (credit_code, name, region_code, kind, contact, phone, created_at, updated_at, "
            f"version, is_demo) VALUES ({', '.join([marker] * 10)})",
            [(c, n, r, "legal_metrology", ct, ph, now, now, 1, flag(False)) for c, n, r, _, ct, ph in sheets["机构"]])
        cursor.execute("SELECT credit_code, id FROM institutions")
        ids = dict(cursor.fetchall())
        cursor.executemany(
            "INSERT INTO measurement_standards (certificate_no, name, code, category, institution_id, "
            "discipline_code, range_text, uncertainty_text, issuer, issued_on, valid_until, status, is_carbon, "
            f"build_kind, created_at, updated_at, version, is_demo) VALUES ({', '.join([marker] * 18)})",
            [(r[0], r[1], r[2], "social_public", ids[r[4]], DISCIPLINE_CODES[r[5]], r[6], r[7], r[8], day(r[9]),
              day(r[10]), "in_use",
              flag(r[13] == "是"), "new" if r[14] else None, now, now, 1, flag(False)) for r in sheets["计量标准"]])
        raw.commit()
    finally:
        raw.close()
    finished = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_floor")
    return {"seconds": bare - started, "cpu": cpu_bare - cpu_started, "parse": parsed - started,
            "executemany": bare - parsed,
            "registry_table": (finished - bare) + (parsed - started)}


def step_import(url: str, workbook: str, profile: str | None = None) -> dict:
    """``run_import`` as the system, committed; the seconds include reading and checking the file."""
    from importers import run_import
    from registry.extensions import db

    app = _app(url)
    with app.app_context():
        db.session.execute(db.select(1))  # connect before timing
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        report = run_import(workbook, actor=None)
        db.session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        if not report.ok:
            raise SystemExit(json.dumps(report.to_dict(), ensure_ascii=False)[:2000])
    return {"seconds": seconds, "cpu": cpu, "sheets": report.sheets}


def step_cli_import(url: str, workbook: str, workdir: str) -> dict:
    """``registry import FILE`` as a user runs it: a new process, wall time from start to exit.

    The command builds its own app (``create_app()`` from the environment), so the
    seconds include the interpreter's and the app's start-up, reading, checking
    and writing the workbook, and the commit.
    """
    env = {**os.environ, "DATABASE_URL": url, "REGISTRY_ENV": "development", "LOG_LEVEL": "WARNING",
           "REGISTRY_INSTANCE_DIR": str(Path(workdir) / "instance"), "IMPORT_MAX_ROWS": "1000000"}
    env.pop("FLASK_APP", None)
    registry = Path(sys.executable).with_name("registry")
    command = [str(registry)] if registry.exists() else [sys.executable, "-m", "registry"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run([*command, "import", workbook], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if out.returncode != 0:
        raise SystemExit(f"registry import exited {out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    help_started = time.perf_counter()
    subprocess.run([*command, "--help"], capture_output=True, env=env, check=True)
    # The peak of the `registry import` process (the largest child waited for), not of this one.
    return {"seconds": seconds, "cpu": cpu, "help_seconds": time.perf_counter() - help_started,
            "maxrss_mb": after.ru_maxrss / 1024}


def step_export(url: str, out: str) -> dict:
    from importers.export import export_workbook

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        counts = export_workbook(out, actor=None, kinds=["standards"])
        return {"seconds": time.perf_counter() - started, "rows": counts}


def step_dump(url: str, out: str) -> dict:
    """A bare openpyxl write-only dump of the same standards rows and columns, as plain values."""
    import sqlalchemy as sa
    from openpyxl import Workbook

    from registry.extensions import db
    from registry.standards.models import MeasurementStandard as S

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("计量标准")
        columns = [S.certificate_no, S.name, S.code, S.category, S.institution_id, S.discipline_code, S.range_text,
                   S.uncertainty_text, S.issuer, S.issued_on, S.valid_until, S.status, S.id, S.is_carbon,
                   S.build_kind, S.built_on, S.is_demo]
        ws.append([c.key for c in columns] + ["regulations"])
        for row in db.session.execute(sa.select(*columns).order_by(S.id).execution_options(yield_per=5000)):
            ws.append(list(row) + [None])
        wb.save(out)
        return {"seconds": time.perf_counter() - started}


STEPS = {"fresh": step_fresh, "floor": step_floor, "import": step_import, "cli_import": step_cli_import,
         "export": step_export, "dump": step_dump}


def child(argv: list[str]) -> None:
    step, args = argv[0], argv[1:]
    result = STEPS[step](*args)
    result.setdefault("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print("RESULT " + json.dumps(result, ensure_ascii=False))


def run(step: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.imports", "--child", step, *args],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"step {step} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")


# --- the benchmark ------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    workdir = _main()
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def _main() -> Path | None:
    """Run the benchmark; return the temporary directory to remove (None with ``--workdir``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--workdir", help="keep the generated files here")
    parser.add_argument("--profile", help="write a cProfile of the first import here")
    parser.add_argument("--force", action="store_true", help="allow a PostgreSQL database whose name lacks 'bench'")
    parser.add_argument("--no-export", action="store_true", help="time the imports only (no export, no dump)")
    parser.add_argument("--smoke", action="store_true",
                        help="CI: 2,000 rows, one run, to check the benchmark still runs (the figures mean nothing)")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.runs = 2000, 1
    refuse_unless_bench(parser, args.database_url, args.force)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-imports-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workbook = workdir / f"standards-named-{args.rows}.xlsx"
    if not workbook.exists():
        print(f"generating {workbook} ...", flush=True)
        from registry import create_app  # noqa: F401  (import check before the long step)

        generate(workbook, args.rows)
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    print(f"database: {url.split('@')[-1]}   rows: {args.rows:,}   runs: {args.runs}", flush=True)

    results: dict[str, list[dict]] = {k: [] for k in ("floor", "import", "reimport", "cli_import", "export",
                                                      "dump")}
    # The floor is measured just before each import (in process, then through the command), so that each
    # import has its own floor measured next to it: on a shared host the machine's speed drifts by a third
    # within minutes, and the ratio within a pair is steadier than the ratio of the medians.
    paired: dict[str, list[float]] = {"import": [], "cli_import": []}
    for n in range(args.runs):
        run("fresh", url)
        results["floor"].append(run("floor", url, str(workbook)))
        run("fresh", url)
        results["import"].append(run("import", url, str(workbook),
                                     *([args.profile] if args.profile and n == 0 else [])))
        paired["import"].append(results["import"][-1]["seconds"] / results["floor"][-1]["seconds"])
        results["reimport"].append(run("import", url, str(workbook)))
        run("fresh", url)
        results["floor"].append(run("floor", url, str(workbook)))
        run("fresh", url)
        results["cli_import"].append(run("cli_import", url, str(workbook), str(workdir)))
        paired["cli_import"].append(results["cli_import"][-1]["seconds"] / results["floor"][-1]["seconds"])
        if not args.no_export:
            results["export"].append(run("export", url, str(workdir / "export.xlsx")))
            results["dump"].append(run("dump", url, str(workdir / "dump.xlsx")))
        print(f"run {n + 1}: " + ", ".join(f"{k} {v[-1]['seconds']:.2f}s" for k, v in results.items() if v),
              flush=True)

    results = {k: v for k, v in results.items() if v}
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: max(r["maxrss_mb"] for r in v) for k, v in results.items()}
    print()
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in results.items() if all("cpu" in r for r in v)}
    print(f"{'step':<10} {'median s':>9} {'cpu s':>7} {'peak MB':>8}")
    for key in results:
        print(f"{key:<10} {med[key]:>9.2f} {cpu[key] if key in cpu else float('nan'):>7.2f} {peak[key]:>8.0f}")
    floor = results["floor"]
    into_registry = statistics.median(r["registry_table"] for r in floor)
    print(f"  floor = parse {statistics.median(r['parse'] for r in floor):.2f}s "
          f"+ executemany {statistics.median(r['executemany'] for r in floor):.2f}s (bare 15-column table)")
    print(f"  same rows into the registry's own tables (indexes, checks, foreign keys): {into_registry:.2f}s")
    print(f"  CLI import = `registry import FILE` in a new process, wall time; `registry --help` took "
          f"{statistics.median(r['help_seconds'] for r in results['cli_import']):.2f}s in the same runs")
    ratios = {
        "import / floor": med["import"] / med["floor"],
        "CLI import / floor": med["cli_import"] / med["floor"],
        "import / registry-table floor": med["import"] / into_registry,
        "reimport / import": med["reimport"] / med["import"],
    }
    if "export" in med:
        ratios["export / dump"] = med["export"] / med["dump"]
    for key, label in (("import", "import / floor"), ("cli_import", "CLI import / floor")):
        pairs = sorted(paired[key])
        print(f"  {label}, each against the floor measured just before it: median {statistics.median(pairs):.2f} "
              f"(from {pairs[0]:.2f} to {pairs[-1]:.2f})")
    if "floor" in cpu and not args.database_url:  # SQLite works in this process: its CPU is counted
        print(f"  on a busy machine compare CPU: import / floor {cpu['import'] / cpu['floor']:.2f}, "
              f"CLI import / floor {cpu['cli_import'] / cpu['floor']:.2f} (user + system seconds; the import's "
              "two threads both count)")
    print()
    for name, value in ratios.items():
        goal = GOALS.get(name)
        if goal is None:  # how far the import is from the database's own work (no checks, no audit rows)
            print(f"{name:<18} {value:5.2f}   (for reference: no checks, no audit rows in that load)")
            continue
        print(f"{name:<18} {value:5.2f}   goal ≤ {goal}   {'ok' if value <= goal else 'MISSED'}")
    print(f"{'import peak MB':<18} {peak['import']:5.0f}   goal < 400   {'ok' if peak['import'] < 400 else 'MISSED'}")
    return None if args.workdir else workdir


if __name__ == "__main__":
    main()
