"""Applications keep their documents in a folder of each test's own."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def store(app, tmp_path):
    """A fresh local document store for each test; yields its folder."""
    folder = tmp_path / "documents"
    saved = app.config["DOCUMENT_DIR"]
    app.config["DOCUMENT_DIR"] = str(folder)
    app.extensions.pop("registry.documents", None)
    yield folder
    app.config["DOCUMENT_DIR"] = saved
    app.extensions.pop("registry.documents", None)


def stored_files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
