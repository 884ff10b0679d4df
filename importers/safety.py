"""Refuse hostile or broken files before any parser sees them.

An .xlsx is a zip of XML parts.  Before python-calamine or openpyxl opens
one, every part is streamed through :mod:`zipfile` (which stops at the
declared size and checks each CRC): the entry count, the total expanded size
and each part's compression ratio are bounded, XML with a DOCTYPE or ENTITY
declaration is refused (entity expansion and external entities), and the
worksheet rows are counted against ``IMPORT_MAX_ROWS``.  Memory stays bounded
by the chunk size; nothing is written.
"""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Union

Source = Union[str, os.PathLike, bytes, bytearray, IO[bytes]]

_CHUNK = 1 << 20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_TRAPS = (b"<!DOCTYPE", b"<!ENTITY")
_TRAP_OVERLAP = max(len(t) for t in _XML_TRAPS)


class RejectedFile(Exception):
    """The file cannot be imported at all: CLI exit 2, HTTP 400 (413 when too large)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 200_000
    max_entries: int = 2_000
    max_expanded: int = 512 * 1024 * 1024
    max_ratio: float = 200.0
    # Small parts may compress extremely well without being bombs.
    ratio_floor: int = 1024 * 1024
    # Rows allowed above the data (title rows and the header) in each sheet.
    header_allowance: int = 10

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """Limits from the app config (``MAX_CONTENT_LENGTH``, ``IMPORT_MAX_ROWS``, ``IMPORT_MAX_*``)."""
        defaults = cls()
        return cls(
            max_bytes=config.get("MAX_CONTENT_LENGTH") or defaults.max_bytes,
            max_rows=config.get("IMPORT_MAX_ROWS") or defaults.max_rows,
            max_entries=config.get("IMPORT_MAX_ZIP_ENTRIES") or defaults.max_entries,
            max_expanded=config.get("IMPORT_MAX_EXPANDED_BYTES") or defaults.max_expanded,
            max_ratio=config.get("IMPORT_MAX_COMPRESSION_RATIO") or defaults.max_ratio,
        )


def read_source(source: Source, limits: Limits) -> tuple[IO[bytes] | str, int]:
    """Return something zipfile and calamine can open, and its size; refuse it when too large."""
    if isinstance(source, (bytes, bytearray)):
        size = len(source)
        _check_size(size, limits)
        return io.BytesIO(bytes(source)), size
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise RejectedFile(f"找不到文件：{path} / no such file: {path}")
        size = path.stat().st_size
        _check_size(size, limits)
        return str(path), size
    # A file-like object (e.g. an upload): read no more than the limit allows.
    data = source.read(limits.max_bytes + 1)
    _check_size(len(data), limits)
    return io.BytesIO(data), len(data)


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise RejectedFile(
            f"文件过大：{size / 1048576:.1f} MB，上限 {limits.max_bytes / 1048576:.0f} MB / "
            f"file too large: {size / 1048576:.1f} MB, the limit is {limits.max_bytes / 1048576:.0f} MB",
            status=413,
        )


def inspect_workbook(opened: IO[bytes] | str, limits: Limits) -> dict[str, int]:
    """Check the zip and its XML; return the number of ``<row>`` elements per worksheet part."""
    head = _head(opened)
    if head.startswith(_OLE_MAGIC):
        raise RejectedFile("不是 .xlsx 文件（旧版 .xls 或已加密的工作簿），请另存为 .xlsx / "
                           "not an .xlsx file (an old .xls or an encrypted workbook): save it as .xlsx")
    if not head.startswith(b"PK"):
        raise RejectedFile("不是 Excel (.xlsx) 文件 / not an Excel (.xlsx) file")
    try:
        archive = zipfile.ZipFile(opened)
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise RejectedFile("文件已损坏或不完整，无法打开 / the file is damaged or truncated and cannot be opened") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise RejectedFile(f"压缩包内文件过多（{len(infos)} 个）/ too many parts in the file ({len(infos)}): "
                               "not a normal workbook")
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise RejectedFile("不是 Excel (.xlsx) 文件 / not an Excel (.xlsx) file (no workbook inside the zip)")
        expanded = sum(info.file_size for info in infos)
        if expanded > limits.max_expanded:
            raise RejectedFile(
                f"解压后过大（{expanded / 1048576:.0f} MB，上限 {limits.max_expanded / 1048576:.0f} MB），疑似压缩炸弹 / "
                f"expands to {expanded / 1048576:.0f} MB, more than {limits.max_expanded / 1048576:.0f} MB "
                "(a zip bomb?)")
        for info in infos:
            if info.flag_bits & 0x1:
                raise RejectedFile("工作簿已加密 / the workbook is encrypted")
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise RejectedFile(
                    f"压缩比异常（{info.filename}：{info.file_size / max(info.compress_size, 1):.0f} 倍），疑似压缩炸弹 / "
                    f"suspicious compression ratio in {info.filename} "
                    f"({info.file_size / max(info.compress_size, 1):.0f}:1, a zip bomb?)")
        rows: dict[str, int] = {}
        total_rows = 0
        handle = open(opened, "rb") if isinstance(opened, str) else opened
        try:
            for info in infos:
                if info.is_dir():
                    continue
                count = _scan_part(handle, info, count_rows=info.filename.startswith("xl/worksheets/"))
                if info.filename.startswith("xl/worksheets/"):
                    rows[info.filename] = count
                    total_rows += max(0, count - limits.header_allowance)
                    if total_rows > limits.max_rows:
                        raise too_many_rows(limits)
        finally:
            if handle is not opened:
                handle.close()
            else:
                opened.seek(0)
    return rows


def too_many_rows(limits: Limits) -> RejectedFile:
    return RejectedFile(f"行数超过上限 {limits.max_rows:,} 行，请分批导入 / more than {limits.max_rows:,} rows: "
                        "split the workbook")


def _head(opened: IO[bytes] | str) -> bytes:
    if isinstance(opened, str):
        with open(opened, "rb") as handle:
            return handle.read(8)
    position = opened.tell()
    head = opened.read(8)
    opened.seek(position)
    return head


def _scan_part(handle: IO[bytes], info: zipfile.ZipInfo, *, count_rows: bool) -> int:
    """Stream one part: refuse DTDs in XML and count ``<row`` tags.

    The compressed bytes are inflated here rather than through
    :mod:`zipfile`, which stops at the declared size: a part whose data
    expands beyond its declared size (what another reader would inflate),
    ends early or fails its CRC is refused.
    """
    is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
    rows = 0
    tail = b""
    for chunk in _inflate(handle, info):
        if is_xml:
            seam = tail + chunk[:_TRAP_OVERLAP]
            if any(trap in chunk or trap in seam for trap in _XML_TRAPS):
                raise RejectedFile(f"XML 含 DOCTYPE/ENTITY 声明（{info.filename}），已拒绝 / "
                                   f"XML with a DOCTYPE or ENTITY declaration in {info.filename}: refused")
            if count_rows:
                rows += chunk.count(b"<row") + seam.count(b"<row") - tail.count(b"<row") - chunk[:_TRAP_OVERLAP].count(b"<row")
            tail = chunk[-_TRAP_OVERLAP:]
    return rows


def _inflate(handle: IO[bytes], info: zipfile.ZipInfo) -> Iterator[bytes]:
    damaged = RejectedFile(f"文件已损坏，无法读取 {info.filename} / the file is damaged: cannot read {info.filename}")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise RejectedFile(f"不支持的压缩方式（{info.filename}）/ unsupported compression in {info.filename}")
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise damaged
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced, crc = info.compress_size, 0, 0
    while left > 0 or (inflater is not None and inflater.unconsumed_tail):
        if inflater is not None and inflater.unconsumed_tail:
            raw = inflater.unconsumed_tail
        else:
            raw = handle.read(min(_CHUNK, left))
            if not raw:
                raise damaged
            left -= len(raw)
        try:
            out = inflater.decompress(raw, _CHUNK) if inflater is not None else raw
        except zlib.error:
            raise damaged from None
        produced += len(out)
        if produced > info.file_size:
            raise RejectedFile(f"{info.filename} 解压后大于声明的大小，疑似压缩炸弹 / {info.filename} expands beyond "
                               "its declared size (a zip bomb?)")
        crc = zlib.crc32(out, crc)
        if out:
            yield out
        if inflater is not None and inflater.eof:
            break
    if produced != info.file_size or crc != info.CRC:
        raise damaged
