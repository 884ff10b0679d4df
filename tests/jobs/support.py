"""A real ``registry worker`` in another process, and the workbooks and waits its tests need."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook

from tests.importers.books import STANDARD_HEADER

ROOT = Path(__file__).resolve().parents[2]


def standards_book(holder: str, tag: str, rows: int) -> bytes:
    """A standards sheet of ``rows`` new certificates held by ``holder``, numbered ``[2098]赣量标{tag}证字第N号``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("计量标准")
    sheet.append(STANDARD_HEADER)
    for n in range(1, rows + 1):
        values = {
            "证书编号*": certificate(tag, n), "计量标准名称*": f"后台导入测试装置{n}", "计量标准代码": "12023901",
            "类别*": "社会公用", "建标单位统一社会信用代码*": holder, "专业": None, "测量范围": f"(0~{n}) m³/h",
            "不确定度/准确度等级/最大允许误差": "U=0.2%, k=2", "发证机关": "南昌市市场监督管理局",
            "发证日期*": date(2024, 3, 1), "有效期至*": date(2028, 2, 29), "状态": "在用", "覆盖强检项目": None,
            "依据规程": None, "双碳相关": "否",
        }
        sheet.append([values[h] for h in STANDARD_HEADER])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def certificate(tag: str, n: int) -> str:
    return f"[2098]赣量标{tag}证字第{n:05d}号"


def wait_for(check: Callable[[], Any], *, timeout: float, interval: float = 0.1, what: str = "the condition") -> Any:
    """Call ``check`` until it returns something true; that value.  Fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(interval)


class WorkerProcess:
    """``registry worker`` started with the settings of ``app`` (its database, queue, uploads, lease).

    ``slow`` (seconds) makes every progress report of an import wait that long
    and note the rows done in ``progress_file``, so a test can kill the worker
    in the middle of an import (:mod:`tests.jobs.slow`).
    """

    def __init__(self, app, workdir: Path, *, slow: float | None = None, workers: int = 1) -> None:
        self.log_path = workdir / f"worker-{time.monotonic_ns()}.log"
        self.progress_file = workdir / f"progress-{time.monotonic_ns()}.txt"
        config = app.config
        env = {
            **os.environ,
            "REGISTRY_ENV": "development",
            "REGISTRY_INSTANCE_DIR": str(workdir),
            "SECRET_KEY": "worker-tests-only-" + "x" * 32,
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "JOBS_URL": config["JOBS_URL"],
            "JOBS_QUEUE_NAME": config["JOBS_QUEUE_NAME"],
            "JOBS_IMMEDIATE": "0",
            "IMPORT_STORAGE_DIR": config["IMPORT_STORAGE_DIR"],
            "IMPORT_LEASE_SECONDS": str(config["IMPORT_LEASE_SECONDS"]),
            "IMPORT_RETENTION_DAYS": str(config["IMPORT_RETENTION_DAYS"]),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        if slow is None:
            command = [sys.executable, "-m", "registry", "worker", "--workers", str(workers)]
        else:
            code = (f"import tests.jobs.slow as slow; slow.install({str(self.progress_file)!r}, {slow!r}); "
                    "from registry.cli import main; main()")
            command = [sys.executable, "-c", code, "worker", "--workers", str(workers)]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def rows_done(self) -> int:
        """The rows a slowed worker last reported (0 before the first report)."""
        try:
            return int(self.progress_file.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9``: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: running jobs finish first
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
