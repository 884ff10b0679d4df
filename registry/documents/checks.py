"""What may be stored: a PDF, an image (PNG, JPEG) or an Office file (.xlsx, .docx), told by its content.

The name's extension must agree with the content (a spreadsheet named
``报告.pdf`` is refused), the size is limited (``DOCUMENT_MAX_BYTES``), and
the name kept is the file's own name without any folder or control
character.  The object's key is random, never the name.
"""
from __future__ import annotations

import re
import tempfile
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from flask_babel import gettext as _

from registry.documents.storage import Storage
from registry.errors import ValidationError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# kind -> (content type, extensions a name may carry)
KINDS = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "xlsx": (XLSX, (".xlsx",)),
    "docx": (DOCX, (".docx",)),
}
MAX_ZIP_ENTRIES = 10_000
MAX_NAME = 150


class DocumentRefused(ValidationError):
    """An upload that will not be stored (type, size, empty); nothing was kept."""


@dataclass(frozen=True)
class StoredDocument:
    key: str
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str


def safe_name(name: str | None) -> str:
    """The file's own name: no folder (``/`` or ``\\``), no control characters, no leading dots, at most 150."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name or "file"


def sniff(head: bytes, spool: BinaryIO) -> str | None:
    """The kind of file by its first bytes (and, for a zip, its entries); None when not accepted."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(spool) as archive:
                infos = archive.infolist()
                if len(infos) > MAX_ZIP_ENTRIES:
                    return None
                names = {info.filename for info in infos}
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
    return None


def store_upload(stream: BinaryIO, filename: str | None, *, storage: Storage, prefix: str,
                 max_bytes: int) -> StoredDocument:
    """Check an upload and put it in ``storage`` under ``prefix/<random>``; refuse it with nothing kept."""
    name = safe_name(filename)
    with tempfile.TemporaryFile() as spool:
        size = 0
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise DocumentRefused(_("文件超过 %(limit)s MB 的上限", limit=f"{max_bytes / 1024 / 1024:g}"),
                                      field="file")
            spool.write(chunk)
        if size == 0:
            raise DocumentRefused(_("文件是空的"), field="file")
        spool.seek(0)
        head = spool.read(16)
        spool.seek(0)
        kind = sniff(head, spool)
        if kind is None:
            raise DocumentRefused(_("只接受 PDF、PNG、JPEG、.xlsx 和 .docx 文件"), field="file")
        content_type, extensions = KINDS[kind]
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in extensions:
            raise DocumentRefused(_("文件内容是 %(kind)s，与文件名“%(name)s”不符", kind=kind.upper(), name=name),
                                  field="file")
        spool.seek(0)
        stored = storage.put(f"{prefix}/{uuid.uuid4().hex}", spool, content_type=content_type)
    return StoredDocument(stored.key, name, kind, content_type, stored.size, stored.sha256)
