"""Every importer test runs both ways a workbook can be written.

``checked-then-written``: every sheet checked, then written (small
workbooks).  ``written-while-checked``: each sheet written as soon as it is
checked, its new records streamed to a writer thread batch by batch
(:mod:`importers.pipeline`, normally for sheets of 5,000 rows or more; here
for every sheet).
"""
from __future__ import annotations

import pytest


WRITE_MODES = ["checked-then-written", "written-while-checked"]


@pytest.fixture(autouse=True, params=WRITE_MODES)
def write_mode(request, app, monkeypatch):
    if request.param == "written-while-checked":
        monkeypatch.setitem(app.config, "IMPORT_PIPELINE_MIN_ROWS", 1)
    else:
        monkeypatch.setitem(app.config, "IMPORT_PIPELINE_MIN_ROWS", None)
    return request.param


@pytest.fixture(autouse=True)
def english_messages(app, monkeypatch):
    """These tests read the English of each message (``IMPORT_LANGUAGE``; the default is Chinese).

    ``test_messages.py`` checks that each import speaks one language, Chinese by default.
    """
    monkeypatch.setitem(app.config, "IMPORT_LANGUAGE", "en")
