"""Check a workbook and start parsing it before the application is built (``registry import FILE``).

``registry import`` spends its first half second importing the registry
(SQLAlchemy, the models, Flask) and building the app, all in Python;
calamine then parses the workbook, about a second for 100,000 rows, in Rust
with the interpreter lock released.  The two can overlap: the command checks
the file first (:func:`importers.safety.inspect_upload`, which must come
before any parser sees it), starts calamine on its sheets in a background
thread, and only then builds the app, while calamine works.

This module imports only the checks, the configuration and calamine, so the
check runs before the registry is imported.  :func:`importers.run.run_import`
takes the :class:`EarlyUpload` as its source and uses what it holds only
when its limits are the app's own (else it checks the file again with the
app's); a file refused here is reported by ``run_import`` as any refused file
is, in the same language.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import IO, Any

from importers.extent_halves import PreparedHalves
from importers.messages import choose, speaking
from importers.safety import Limits, RejectedFile, inspect_upload, read_source

WORKBOOK_KINDS = ("xlsx", "xls", "ods")


@dataclass
class EarlyUpload:
    """A file checked with ``limits`` (or refused: ``refused``), its workbook being parsed in the background.

    ``opening`` resolves to ``(calamine workbook, its file, {sheet name: Future of the parsed sheet})``
    once the background thread has opened the workbook; it then parses the sheets one by one, in order
    (each Future gives a list: the sheet, or a big sheet's two halves, :mod:`importers.split`).
    """

    path: str
    limits: Limits
    language: str
    opened: IO[bytes] | str | None = None
    kind: str | None = None
    refused: RejectedFile | None = None
    opening: Future | None = None
    halves: PreparedHalves = field(default_factory=PreparedHalves)  # a big sheet's, as the check read it
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        """Stop parsing (after the sheet at hand), wait for the thread, close the workbook; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.opening is not None and self.opening.done() and self.opening.exception() is None:
            book, handle, _ = self.opening.result()
            book.close()
            handle.close()
        self.opening = None
        self.halves.close()


def start_reading(path: str, config: Mapping[str, Any], lang: str | None = None) -> EarlyUpload:
    """Check ``path`` with the limits of ``config`` and, for a workbook, start parsing every sheet.

    ``lang``: the command line's ``--lang``; else the configured ``IMPORT_LANGUAGE``
    (:func:`importers.messages.choose`, as inside the app).
    """
    limits = Limits.from_config(config)
    chosen = choose(lang, config)
    early = EarlyUpload(path=os.fspath(path), limits=limits, language=chosen)
    with speaking(chosen):
        try:
            early.opened, _ = read_source(early.path, limits)
            early.kind = inspect_upload(early.opened, limits, os.path.basename(early.path), halves=early.halves)
        except RejectedFile as exc:
            early.halves.close()
            early.refused = exc
            return early
    if early.kind in WORKBOOK_KINDS and isinstance(early.opened, str):
        early.opening = Future()
        early._thread = threading.Thread(target=_read, args=(early.opened, early.opening, early._stop, early.halves),
                                         name="import-parse", daemon=True)
        early._thread.start()
    return early


def _read(path: str, opening: Future, stop: threading.Event, halves: PreparedHalves) -> None:
    """The background thread: open the workbook, then parse its sheets in order (calamine takes one call
    at a time on a workbook, and releases the interpreter lock while it parses)."""
    import python_calamine

    from importers.split import parse_halves

    handle = open(path, "rb")  # noqa: SIM115 - kept open while calamine reads; closed by EarlyUpload.close
    try:
        source = handle.read()
        handle.seek(0)
        book = python_calamine.CalamineWorkbook.from_object(handle)
    except BaseException as exc:  # noqa: BLE001 - reported where the workbook is used (reading.Workbook)
        handle.close()
        opening.set_exception(exc)
        return
    sheets = {name: Future() for name in book.sheet_names}
    opening.set_result((book, handle, sheets))
    for name, sheet in list(sheets.items()):
        if stop.is_set():
            sheet.cancel()
            continue
        try:
            sheet.set_result(parse_halves(source, name, halves) or [book.get_sheet_by_name(name)])
        except BaseException as exc:  # noqa: BLE001 - the same
            sheet.set_exception(exc)
