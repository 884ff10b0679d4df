"""Excel in and out: workbook import, export and templates.

Importers call the same services as the API and the pages, so every rule is
enforced once.  Entry points for the CLI and the API:

- :func:`run_import` validates a workbook and applies it (or previews it);
- :func:`write_error_workbook` marks a rejected upload's bad cells;
- :func:`write_template` and :func:`export_workbook` write the same format.
"""
from importers.error_workbook import write_error_workbook
from importers.export import export_workbook, write_template
from importers.report import ImportReport, RowError
from importers.run import run_import
from importers.safety import RejectedFile

__all__ = ["ImportReport", "RejectedFile", "RowError", "export_workbook", "run_import", "write_error_workbook",
           "write_template"]
