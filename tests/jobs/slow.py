"""Installed in a test's worker process: every progress report of an import waits and is noted in a file.

So a test can kill the worker in the middle of an import, after a known
number of rows (written while they are checked from 5,000 rows on).
"""
from __future__ import annotations

import time
from pathlib import Path


def install(progress_file: str, delay: float) -> None:
    from registry.imports.lease import RunLease

    report = RunLease.update
    path = Path(progress_file)

    def slow_update(self, done: int, total: int) -> None:
        report(self, done, total)
        path.write_text(str(done))
        time.sleep(delay)

    RunLease.update = slow_update
