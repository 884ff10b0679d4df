"""What an import found and did: counts per sheet, row errors, ignored columns, dry-run diffs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from importers.messages import one_language

ACTIONS = ("created", "updated", "unchanged")


@dataclass
class RowError:
    """One problem, located as Excel shows it: sheet tab, row number, column header."""

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    """The answer of :func:`importers.run_import`; ``to_dict()`` is the CLI's ``--json`` object."""

    dry_run: bool = False
    sheets: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # Rows imported as given that deserve a look (a status without its date): never block the import.
    warnings: list[RowError] = field(default_factory=list)
    ignored_columns: list[dict[str, str]] = field(default_factory=list)
    # Dry run: per updated row, {"sheet", "row", "key", "changes": {field: [old, new]}}.
    changes: list[dict[str, Any]] = field(default_factory=list)
    # A file refused before its rows were read (exit code 2; HTTP 400 or 413).
    rejected: str | None = None
    status: int = 200
    # Data rows of the sheets imported, and how many of them have been checked.
    rows_total: int = 0
    rows_done: int = 0
    run_id: int | None = None
    applied: bool = False

    @property
    def ok(self) -> bool:
        return self.rejected is None and not self.errors

    @property
    def exit_code(self) -> int:
        """0 applied or clean dry run, 1 row errors (nothing written), 2 file refused."""
        if self.rejected is not None:
            return 2
        return 0 if self.ok else 1

    def count(self, sheet: str, action: str, n: int = 1) -> None:
        counts = self.sheets.setdefault(sheet, {a: 0 for a in ACTIONS})
        counts[action] += n

    def error(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.errors.append(RowError(sheet, row, column, one_language(message)))

    def warn(self, sheet: str | None, row: int | None, column: str | None, message: str) -> None:
        self.warnings.append(RowError(sheet, row, column, one_language(message)))

    def to_dict(self, *, include_changes: bool = False) -> dict[str, Any]:
        """``{"ok", "dry_run", "sheets", "errors", "warnings", "ignored_columns"}`` (plus ``changes`` when asked)."""
        errors = [e.to_dict() for e in self.errors]
        if self.rejected is not None:
            errors = [RowError(None, None, None, self.rejected).to_dict()]
        out = {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "sheets": {name: dict(counts) for name, counts in self.sheets.items()},
            "errors": errors,
            "warnings": [w.to_dict() for w in self.warnings],
            "ignored_columns": list(self.ignored_columns),
        }
        if include_changes:
            out["changes"] = list(self.changes)
        return out
