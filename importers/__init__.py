"""Excel in and out: workbook import, export and templates.

Importers call the same services as the API and the pages, so every rule is
enforced once.  Entry points for the CLI and the API:

- :func:`run_import` validates a workbook and applies it (or previews it);
- :func:`write_error_workbook` marks a rejected upload's bad cells;
- :func:`write_template` and :func:`export_workbook` write the same format.

They are imported on first use (``from importers import run_import`` works as
usual), so importing ``importers.cli`` to list the commands loads neither the
parsers nor the database layer.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ImportReport": "importers.report", "RowError": "importers.report", "RejectedFile": "importers.safety",
    "export_workbook": "importers.export", "write_template": "importers.export",
    "run_import": "importers.run", "write_error_workbook": "importers.error_workbook",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
