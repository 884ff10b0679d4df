"""The ``registry`` command starts without what it does not need.

Each check runs the command in a fresh interpreter and reads ``sys.modules``
at exit: ``registry --help`` must not build the app nor import the
importers, the spreadsheet parsers, the API or the database layer, and a data
command (``registry coverage``, ``registry import``) gets an app without the
pages and the API.  No timing: a module that is imported is a fact.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry import cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY_FOR_HELP = ("openpyxl", "python_calamine", "flask_smorest", "marshmallow", "importers", "babel",
                  "sqlalchemy", "alembic", "psycopg", "registry.extensions", "registry.database.models")
HEAVY_FOR_DATA = ("flask_smorest", "marshmallow", "alembic", "flask_migrate", "registry.api",
                  "registry.standards.views", "registry.dashboard.views")

PROBE = """
import atexit, json, sys
WATCH = {watch!r}
def report():
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(m for m in WATCH if m in sys.modules)) + "\\n")
atexit.register(report)
from registry.cli import main
main({args!r})
"""


def _run(args: list[str], watch: tuple[str, ...], tmp_path: Path, database_url: str | None = None):
    env = {**os.environ, "REGISTRY_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    out = subprocess.run([sys.executable, "-c", PROBE.format(watch=watch, args=args)], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)
    marker = [line for line in out.stderr.splitlines() if line.startswith("MODULES ")]
    assert marker, out.stderr[-3000:]
    return out, json.loads(marker[-1][len("MODULES "):])


def test_help_lists_every_command_without_building_the_app(tmp_path):
    out, loaded = _run(["--help"], HEAVY_FOR_HELP, tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert loaded == [], f"registry --help imported {loaded}"
    for name in cli.COMMANDS:
        assert f"  {name} " in out.stdout, out.stdout
    for name in ("run", "routes", "shell"):
        assert f"  {name} " in out.stdout


def test_a_command_help_loads_only_its_own_module(tmp_path):
    out, loaded = _run(["import", "--help"], HEAVY_FOR_HELP, tmp_path)
    assert out.returncode == 0 and "--dry-run" in out.stdout, out.stderr[-3000:]
    assert loaded == ["importers"], loaded  # importers.cli itself, not the parsers or the database


def test_every_command_the_app_registers_is_known_to_the_group(app):
    """A command added to ``app.cli`` but not to ``cli.COMMANDS`` would be missing from ``registry --help``."""
    assert set(app.cli.commands) <= set(cli.COMMANDS), set(app.cli.commands) - set(cli.COMMANDS)
    for name in cli.COMMANDS:
        assert app.cli.commands.get(name) is cli._load(name)


def test_data_commands_run_without_the_pages_and_the_api(app, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("needs a database file another process can open")
    out, loaded = _run(["coverage", "--json", "--as-of", "2025-12-31"], HEAVY_FOR_DATA, tmp_path,
                       database_url=url)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["as_of"] == "2025-12-31" and report["indicators"]
    assert loaded == [], f"registry coverage imported {loaded}"

    workbook = tmp_path / "template.xlsx"
    out, loaded = _run(["template", str(workbook)], HEAVY_FOR_DATA, tmp_path, database_url=url)
    assert out.returncode == 0 and workbook.exists(), out.stderr[-3000:]
    out, loaded = _run(["import", str(workbook), "--dry-run", "--json"], HEAVY_FOR_DATA + ("openpyxl",),
                       tmp_path, database_url=url)  # calamine reads; openpyxl only writes an error workbook
    assert out.returncode == 1, out.stderr[-3000:]  # the template's example rows are refused
    assert json.loads(out.stdout)["errors"], out.stdout
    assert loaded == [], f"registry import imported {loaded}"


def test_serving_commands_get_the_whole_app(tmp_path, app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("needs a database file another process can open")
    out, loaded = _run(["routes"], HEAVY_FOR_DATA, tmp_path, database_url=url)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "/api/v1/standards" in out.stdout and "/dashboard" in out.stdout
    assert "flask_smorest" in loaded and "alembic" in loaded


OWN_PROCESS_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nCLEANED UP\\n"))
sys.argv = ["registry", *{args!r}]
from registry.cli import main
main()
"""


def _workbook(path: Path, credit_code: str) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "机构"
    ws.append(["统一社会信用代码*", "机构名称*", "所属地区*", "机构类型*"])
    ws.append([credit_code, "快速退出测试计量所", "360100", "法定计量检定机构"])
    wb.save(path)
    return path


def test_import_in_its_own_process_leaves_at_once_with_its_output_and_status(app, tmp_path):
    """``registry import`` run from the command line skips the interpreter's clean-up, nothing else."""
    from registry.records.codes import credit_code_check_char

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("needs a database file another process can open")
    env = {**os.environ, "REGISTRY_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": url}
    env.pop("FLASK_APP", None)
    body = "12360100MB9999999"
    good = _workbook(tmp_path / "good.xlsx", body + credit_code_check_char(body))
    bad = _workbook(tmp_path / "bad.xlsx", "not a credit code")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", OWN_PROCESS_PROBE.format(args=list(args))], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)

    out = run("import", str(good), "--dry-run")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "机构：新增 1" in out.stdout and "预览：未写入任何数据" in out.stdout
    assert "CLEANED UP" not in out.stderr  # left at once

    out = run("import", str(bad), "--dry-run", "--lang", "en")
    assert out.returncode == 1, out.stderr[-3000:]
    assert "1 errors, nothing written" in out.stderr and "CLEANED UP" not in out.stderr

    out = run("import", str(tmp_path / "missing.xlsx"))  # a refused file: exit 2, at once too
    assert out.returncode == 2 and "CLEANED UP" not in out.stderr, out.stderr[-3000:]
    out = run("import", str(good), "--as", "nobody@example.org")  # a usage error: click's own exit
    assert out.returncode == 2 and "CLEANED UP" in out.stderr, out.stderr[-3000:]

    # Called with its arguments (as tests and CliRunner do), the command exits as any other.
    probe = f"import atexit, sys\natexit.register(lambda: sys.stderr.write('CLEANED UP'))\n" \
            f"from registry.cli import main\nmain({['import', str(good), '--dry-run']!r})\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=120)
    assert out.returncode == 0 and "CLEANED UP" in out.stderr, out.stderr[-3000:]
