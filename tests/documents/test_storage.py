"""The document store: a local folder and an S3 bucket (moto's standalone server on loopback), same behaviour."""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from registry.documents.checks import DocumentRefused, safe_name, store_upload
from registry.documents.storage import LocalStorage, ObjectExists, ObjectMissing, S3Storage, check_key

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml" if kind == "xlsx" else "word/document.xml", "<x/>")
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server():
    """moto's S3 server as a separate process on loopback (no S3 server can be installed here)."""
    executable = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if executable is None:
        pytest.fail("moto_server is not installed: pip install -e '.[dev]' (moto[server])")
    port = _free_port()
    process = subprocess.Popen([executable, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "documents")
    url = request.getfixturevalue("moto_server")
    config = {"S3_BUCKET": f"registry-{os.getpid()}-{id(request)}", "S3_ENDPOINT_URL": url, "S3_REGION": "us-east-1",
              "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
    storage = S3Storage.from_config(config)
    storage.client.create_bucket(Bucket=config["S3_BUCKET"])
    return storage


def test_put_open_delete(store):
    stored = store.put("applications/1/abc", io.BytesIO(PDF), content_type="application/pdf")
    assert (stored.size, len(stored.sha256)) == (len(PDF), 64)
    assert store.exists("applications/1/abc")
    assert b"".join(store.open("applications/1/abc")) == PDF
    store.delete("applications/1/abc")
    assert not store.exists("applications/1/abc")
    with pytest.raises(ObjectMissing):
        b"".join(store.open("applications/1/abc"))


def test_an_object_is_never_overwritten(store):
    store.put("k/one", io.BytesIO(PDF), content_type="application/pdf")
    with pytest.raises(ObjectExists):
        store.put("k/one", io.BytesIO(PNG), content_type="image/png")
    assert b"".join(store.open("k/one")) == PDF


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "", "a//b", "名字"])
def test_keys_are_safe_paths(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_local_files_are_private(tmp_path):
    store = LocalStorage(tmp_path / "documents")
    store.put("a/b", io.BytesIO(PDF), content_type="application/pdf")
    assert (tmp_path / "documents" / "a" / "b").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (tmp_path / "documents" / "a").iterdir()] == ["b"]  # no temporary file left


@pytest.mark.parametrize("content, name, kind", [
    (PDF, "申请书.pdf", "pdf"), (PNG, "照片.PNG", "png"), (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "a.jpeg", "jpeg"),
    (_office("xlsx"), "重复性试验记录.xlsx", "xlsx"), (_office("docx"), "技术报告.docx", "docx"),
])
def test_accepted_uploads(app, store, content, name, kind):
    document = store_upload(io.BytesIO(content), name, storage=store, prefix="applications/7", max_bytes=1024 * 1024)
    assert (document.kind, document.name, document.size) == (kind, name, len(content))
    assert document.key.startswith("applications/7/") and name not in document.key
    assert b"".join(store.open(document.key)) == content


@pytest.mark.parametrize("content, name", [
    (_office("xlsx"), "报告.pdf"),          # a spreadsheet under a PDF name
    (PDF, "报告.docx"),
    (b"MZ\x90\x00" + b"\x00" * 60, "a.pdf"),  # an executable
    (b"PK\x03\x04not a zip", "a.xlsx"),
    (b"", "empty.pdf"),
    (PDF * 40_000, "big.pdf"),             # over the limit
])
def test_refused_uploads_leave_nothing(app, tmp_path, content, name):
    store = LocalStorage(tmp_path / "documents")
    with app.test_request_context(), pytest.raises(DocumentRefused):
        store_upload(io.BytesIO(content), name, storage=store, prefix="applications/7", max_bytes=1024 * 1024)
    assert not (tmp_path / "documents").exists() or not any((tmp_path / "documents").rglob("*"))


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\申请书.pdf", "申请书.pdf"), ("a\x00b\n.pdf", "ab.pdf"),
    ("...", "file"), ("", "file"), (None, "file"), ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
])
def test_names_are_sanitised(given, kept):
    assert safe_name(given) == kept
