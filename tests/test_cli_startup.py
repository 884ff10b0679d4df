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
