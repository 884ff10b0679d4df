"""Refuse hostile or broken files before any parser sees them.

An .xlsx is a zip of XML parts.  Before python-calamine or openpyxl opens
one, every part is streamed through :mod:`zipfile` (which stops at the
declared size and checks each CRC): the entry count, the total expanded size
and each part's compression ratio are bounded, XML with a DOCTYPE or ENTITY
declaration is refused (entity expansion and external entities) whatever
the XML's encoding (UTF-16 and UTF-32 parts are decoded first), and each
worksheet's real extent is read from its cell and row references
(:mod:`importers.extent`, not the ``<dimension>`` element, which can lie)
and held to ``IMPORT_MAX_ROWS``, ``IMPORT_MAX_COLUMNS`` and
``IMPORT_MAX_CELLS``: a reader allocates the whole rectangle from A1 to the
last cell.  Memory stays bounded by the chunk size.  Nothing is written,
except a big sheet's XML, in two halves, to a temporary folder of its own:
its extent is read on two cores (:mod:`importers.extent_halves`), and the
halves may be kept for the parse (:mod:`importers.split`).
"""
from __future__ import annotations

import codecs
import html
import io
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Union

from importers.extent import ExtentError, SheetExtent, column_letters
from importers.extent_halves import HalvedExtent, PreparedHalves, halved_extent
from importers.messages import msg, one_language

Source = Union[str, os.PathLike, bytes, bytearray, IO[bytes]]

_CHUNK = 1 << 20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_TRAPS = (b"<!DOCTYPE", b"<!ENTITY")
_TRAP_OVERLAP = max(len(t) for t in _XML_TRAPS)


class RejectedFile(Exception):
    """The file cannot be imported at all: CLI exit 2, HTTP 400 (413 when too large)."""

    def __init__(self, message: str, *, status: int = 400):
        message = one_language(message)
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
    # The widest sheet (columns from A) and the largest rectangle from A1 to a sheet's last cell.
    max_columns: int = 200
    max_cells: int = 6_000_000
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
            max_columns=config.get("IMPORT_MAX_COLUMNS") or defaults.max_columns,
            max_cells=config.get("IMPORT_MAX_CELLS") or defaults.max_cells,
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


ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# What the importer reads (exports and templates stay .xlsx).
ACCEPTED = ".xlsx, .xls, .ods, .csv"


def inspect_upload(opened: IO[bytes] | str, limits: Limits, filename: str | None = None, *,
                   halves: PreparedHalves | None = None) -> str:
    """Check an upload before any parser sees it; return its format: ``xlsx``, ``xls``, ``ods`` or ``csv``.

    ``halves``: where to keep a big sheet's XML as the check read it, in two halves, for
    :mod:`importers.split` (:mod:`importers.extent_halves`; the caller closes it).

    The format is told by the file's first bytes (a compound file, a zip), not by its name;
    text is taken as CSV (checked while it is read, :mod:`importers.csvfile`) unless its name
    says it is something else.
    """
    head = _head(opened)
    if head.startswith(_OLE_MAGIC):
        inspect_xls(opened, limits)
        return "xls"
    if head.startswith(b"PK"):
        return _inspect_zip(opened, limits, halves)[0]
    suffix = Path(filename).suffix.lower() if filename else ""
    if suffix in ("", ".csv", ".txt") and b"\0" not in head:
        return "csv"
    raise RejectedFile(msg(f"不是可导入的文件：可导入 {ACCEPTED}",
                           f"not a file the registry imports: it takes {ACCEPTED}"))


def inspect_xls(opened: IO[bytes] | str, limits: Limits) -> list:
    """Check an .xls (a compound file): its chains and streams, then each sheet's extent."""
    from importers.compound import CompoundError, biff_sheets, read_all, workbook_stream

    try:
        stream = workbook_stream(read_all(opened), limits.max_entries)
        sheets = biff_sheets(stream)
    except CompoundError as exc:
        raise RejectedFile(exc.message) from None
    total_rows = total_cells = 0
    for sheet in sheets:
        extent = SheetExtent()
        extent.rows, extent.columns = sheet.rows, sheet.columns
        _check_extent(extent, limits, None, sheet.name, total_cells, sheet=sheet.name)
        total_cells += sheet.rows * sheet.columns
        total_rows += max(0, sheet.rows - limits.header_allowance)
        if total_rows > limits.max_rows:
            raise too_many_rows(limits)
    return sheets


def inspect_workbook(opened: IO[bytes] | str, limits: Limits) -> dict[str, int]:
    """Check an .xlsx or .ods (a zip of XML parts) and its XML; return the rows of each sheet (by part or name)."""
    return _inspect_zip(opened, limits)[1]


def _inspect_zip(opened: IO[bytes] | str, limits: Limits,
                 halves: PreparedHalves | None = None) -> tuple[str, dict[str, int]]:
    """Check an .xlsx or .ods and its XML: ``("xlsx" or "ods", rows of each sheet)``."""
    try:
        archive = zipfile.ZipFile(opened)
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise RejectedFile(msg("文件已损坏或不完整，无法打开",
                               "the file is damaged or truncated and cannot be opened")) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise RejectedFile(msg(f"压缩包内文件过多（{len(infos)} 个），不是正常的工作簿",
                                   f"too many parts in the file ({len(infos)}): not a normal workbook"))
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            kind = "xlsx"
        elif "mimetype" in names and "content.xml" in names and _ods_mimetype(archive):
            kind = "ods"
        else:
            raise RejectedFile(msg(f"不是可导入的工作簿（压缩包内没有工作簿）：可导入 {ACCEPTED}",
                                   f"not a workbook the registry imports (no workbook inside the zip): "
                                   f"it takes {ACCEPTED}"))
        expanded = sum(info.file_size for info in infos)
        if expanded > limits.max_expanded:
            raise RejectedFile(msg(
                f"解压后过大（{expanded / 1048576:.0f} MB，上限 {limits.max_expanded / 1048576:.0f} MB），疑似压缩炸弹",
                f"expands to {expanded / 1048576:.0f} MB, more than {limits.max_expanded / 1048576:.0f} MB "
                "(a zip bomb?)"))
        for info in infos:
            if info.flag_bits & 0x1:
                raise RejectedFile(msg("工作簿已加密", "the workbook is encrypted"))
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                raise RejectedFile(msg(f"压缩比异常（{info.filename}：{ratio:.0f} 倍），疑似压缩炸弹",
                                       f"suspicious compression ratio in {info.filename} ({ratio:.0f}:1, a zip bomb?)"))
        total_rows = total_cells = 0
        rows: dict[str, int] = {}
        handle = open(opened, "rb") if isinstance(opened, str) else opened
        try:
            for info in infos:
                if info.is_dir():
                    continue
                if kind == "ods" and info.filename == "META-INF/manifest.xml" and info.file_size < (1 << 20):
                    if b"encryption-data" in b"".join(_inflate(handle, info)):
                        raise RejectedFile(msg("工作簿已加密", "the workbook is encrypted"))
                for extent, sheet in _scan_part(handle, info, limits, cells_before=total_cells, kind=kind,
                                                halves=halves):
                    rows[sheet or info.filename] = extent.rows
                    total_cells += extent.rows * extent.columns
                    total_rows += max(0, extent.rows - limits.header_allowance)
                    if total_rows > limits.max_rows:
                        raise too_many_rows(limits)
        finally:
            if handle is not opened:
                handle.close()
            else:
                opened.seek(0)
    return kind, rows


def _ods_mimetype(archive: zipfile.ZipFile) -> bool:
    info = archive.getinfo("mimetype")
    if info.file_size > 200:
        return False
    try:
        return archive.read(info).strip() == ODS_MIMETYPE
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error, NotImplementedError):
        return False


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


def _is_sheet(name: str) -> bool:
    # calamine finds a sheet's part by a case-insensitive name under xl/worksheets/.
    return name.lower().startswith("xl/worksheets/")


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml")) or _is_sheet(name)


def _scan_part(handle: IO[bytes], info: zipfile.ZipInfo, limits: Limits, *, cells_before: int = 0,
               kind: str = "xlsx", halves: PreparedHalves | None = None) -> Iterator[tuple[Any, str | None]]:
    """Stream one part: refuse DTDs in XML; yield ``(extent, sheet name)`` of each sheet it holds.

    An .xlsx worksheet part holds one sheet (its name is looked up only for a message); an
    .ods ``content.xml`` holds them all (:mod:`importers.opendocument`).  A sheet beyond the
    limits is refused as soon as it is.  ``cells_before``: the cells of the sheets already
    read (a reader keeps every sheet it opened, so ``IMPORT_MAX_CELLS`` holds for them together).

    The compressed bytes are inflated here rather than through
    :mod:`zipfile`, which stops at the declared size: a part whose data
    expands beyond its declared size (what another reader would inflate),
    ends early or fails its CRC is refused.
    """
    from importers.opendocument import ContentExtent, OdsError

    chunks = _inflate(handle, info)
    if not _is_xml(info.filename):
        for _ in chunks:
            pass
        return
    extent = content = None
    if kind == "xlsx" and _is_sheet(info.filename):
        # A big sheet is read in two halves, on two cores (importers.extent_halves).
        extent = halved_extent(info.file_size, lambda: _as_utf8(_inflate(handle, info), info.filename),
                               keep=halves, part=info.filename) or SheetExtent()
    elif kind == "ods" and info.filename == "content.xml":
        content = ContentExtent()
    tail = b""
    try:
        for chunk in _as_utf8(chunks, info.filename):
            seam = tail + chunk[:_TRAP_OVERLAP]
            if any(trap in chunk or trap in seam for trap in _XML_TRAPS):
                raise RejectedFile(msg(f"XML 含 DOCTYPE/ENTITY 声明（{info.filename}），已拒绝",
                                       f"XML with a DOCTYPE or ENTITY declaration in {info.filename}: refused"))
            tail = chunk[-_TRAP_OVERLAP:]
            if extent is not None:
                extent.feed(chunk)
                _check_extent(extent, limits, handle, info.filename, cells_before)
            elif content is not None:
                content.feed(chunk)
                _check_tables(content, limits, cells_before)
        if extent is not None:
            extent.close()
            _check_extent(extent, limits, handle, info.filename, cells_before)
            yield extent, None
        elif content is not None:
            content.close()
            _check_tables(content, limits, cells_before)
            for table in content.tables:
                yield _TableExtent(table.rows, table.columns), table.name
    except ExtentError:
        raise RejectedFile(msg(f"工作表 XML 异常（{info.filename} 中有超长的标签），已拒绝",
                               f"malformed sheet XML in {info.filename} (a tag longer than 1 MB): refused")) from None
    except OdsError as exc:
        raise RejectedFile(msg(f"工作表 XML 异常（{info.filename}：{exc}），已拒绝",
                               f"malformed sheet XML in {info.filename} ({exc}): refused")) from None
    finally:
        if isinstance(extent, HalvedExtent):
            extent.discard()  # a part refused (or left) before its end: the helper and its file go


@dataclass
class _TableExtent:
    rows: int
    columns: int
    cells_walked: int = 0


def _check_tables(content: Any, limits: Limits, cells_before: int) -> None:
    """The tables of an .ods read so far: each within the limits, and together; and what calamine copies."""
    total = cells_before
    copied = 0
    for table in content.tables:
        _check_extent(_TableExtent(table.rows, table.columns), limits, None, "content.xml", total,
                      sheet=table.name)
        total += table.rows * table.columns
        copied += table.copied
        if copied > limits.max_cells:
            raise RejectedFile(msg(f"工作表“{table.name}”的单元格超过 {limits.max_cells:,} 个（含重复的单元格），已拒绝",
                                   f"sheet {table.name!r} holds more than {limits.max_cells:,} cells "
                                   "(repeated cells counted): refused"))


def _check_extent(extent: Any, limits: Limits, handle: IO[bytes] | None, part: str, cells_before: int, *,
                  sheet: str | None = None) -> None:
    """Refuse a sheet whose rectangle from A1 to its last cell is beyond the limits (as soon as it is)."""
    rows, columns = extent.rows, extent.columns
    if rows <= limits.max_rows + limits.header_allowance and columns <= limits.max_columns \
            and rows * columns + cells_before <= limits.max_cells and extent.cells_walked <= limits.max_cells:
        return
    if sheet is None:
        sheet = _sheet_name(handle, part) if handle is not None else part
    if extent.cells_walked > limits.max_cells:
        # More cell tags than the rectangle may hold: repeated references, not a sheet to import.
        raise RejectedFile(msg(f"工作表“{sheet}”的单元格超过 {limits.max_cells:,} 个，已拒绝",
                               f"sheet {sheet!r} holds more than {limits.max_cells:,} cells: refused"))
    last = f"{column_letters(min(columns, 1 << 20)) or 'A'}{rows}"
    if rows > limits.max_rows + limits.header_allowance:
        raise RejectedFile(msg(f"工作表“{sheet}”用到第 {rows:,} 行（单元格 {last}），超过 {limits.max_rows:,} 行的上限，"
                               "请删除多余的行或分批导入",
                               f"sheet {sheet!r} reaches row {rows:,} (cell {last}), more than {limits.max_rows:,} "
                               "rows: delete the unused rows or split the workbook"))
    if columns > limits.max_columns:
        raise RejectedFile(msg(f"工作表“{sheet}”用到第 {columns:,} 列（单元格 {last}），超过 {limits.max_columns:,} 列的上限，"
                               "请删除多余的列",
                               f"sheet {sheet!r} reaches column {columns:,} (cell {last}), more than "
                               f"{limits.max_columns:,} columns: delete the unused columns"))
    if cells_before:
        raise RejectedFile(msg(f"工作表“{sheet}”从 A1 到 {last} 共 {rows * columns:,} 个单元格，连同前面的工作表超过 "
                               f"{limits.max_cells:,} 的上限，请删除多余的行列或分批导入",
                               f"sheet {sheet!r} spans A1:{last}, {rows * columns:,} cells, with the sheets before it "
                               f"more than {limits.max_cells:,}: delete the unused rows and columns or split the "
                               "workbook"))
    raise RejectedFile(msg(f"工作表“{sheet}”从 A1 到 {last} 共 {rows * columns:,} 个单元格，超过 {limits.max_cells:,} 的上限，"
                           "请删除多余的行列或分批导入",
                           f"sheet {sheet!r} spans A1:{last}, {rows * columns:,} cells, more than "
                           f"{limits.max_cells:,}: delete the unused rows and columns or split the workbook"))


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*>')
_ATTRIBUTE = re.compile(rb'([\w:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def _sheet_name(handle: IO[bytes], part: str) -> str:
    """The tab name of worksheet ``part`` for a message (the part's name when it cannot be told)."""
    try:
        handle.seek(0)
        with zipfile.ZipFile(handle) as archive:
            return next((name for name, info in sheet_parts(archive).items()
                         if info.filename.lower() == part.lower()), part)
    except Exception:  # a message only: never fail the refusal over it
        return part


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Each tab's name and its worksheet part, from xl/workbook.xml and its relationships (parts named in any
    case, as calamine finds them); empty when they are missing or larger than 1 MB."""
    names = {info.filename.lower(): info for info in archive.infolist()}
    workbook, rels = names.get("xl/workbook.xml"), names.get("xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None or max(workbook.file_size, rels.file_size) > (1 << 20):
        return {}
    targets = {}
    for tag in re.findall(rb'<(?:\w+:)?Relationship\b[^>]*>', archive.read(rels)):
        attributes = {k: a or b for k, a, b in _ATTRIBUTE.findall(tag)}
        target = attributes.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
        targets[attributes.get(b"Id")] = target if target.lower().startswith("xl/") else f"xl/{target}"
    parts = {}
    for tag in _SHEET_TAG.findall(archive.read(workbook)):
        attributes = {k.split(b":")[-1] if k != b"name" else k: a or b for k, a, b in _ATTRIBUTE.findall(tag)}
        info = names.get(targets.get(attributes.get(b"id"), "").lower())
        name = html.unescape(attributes.get(b"name", b"").decode("utf-8", "replace"))
        if info is not None and name:
            parts.setdefault(name, info)
    return parts


# --- the XML's encoding ---------------------------------------------------------------

_DECLARED = re.compile(rb'<\?xml[^>]*?encoding\s*=\s*["\']([A-Za-z0-9._:-]+)["\']')
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_ASCII_PROBE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY y "z">]><c r="A1"/> +ADw-'


def _as_utf8(chunks: Iterator[bytes], name: str) -> Iterable[bytes]:
    """The part's XML as UTF-8, decoded by its byte order mark, its first bytes or its declaration.

    A DOCTYPE written in UTF-16 or UTF-32 is invisible to a byte search, so
    such parts are decoded first.  A declared encoding that is neither of
    those must read ASCII as ASCII (GBK, Latin-1 ...): its bytes are searched
    as they are; any other (UTF-7, EBCDIC) or unknown encoding is refused.
    """
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 1024:
            break
    encoding = _encoding(head, name)
    if encoding is None:
        yield head
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        yield decoder.decode(head).encode("utf-8")
        for chunk in chunks:
            yield decoder.decode(chunk).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")
    except UnicodeDecodeError:
        raise RejectedFile(f"{name} 的编码无法解码（{encoding}）/ {name} cannot be decoded as {encoding}") from None


def _encoding(head: bytes, name: str) -> str | None:
    """The codec to decode the part with, or None when its bytes can be searched as they are."""
    if head.startswith(b"\xef\xbb\xbf"):
        return None
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head[:4] == b"\x00\x00\x00<":
        return "utf-32-be"
    if head[:4] == b"<\x00\x00\x00":
        return "utf-32-le"
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return "utf-16-be"
    if len(head) >= 2 and head[1] == 0 and head[0] != 0:
        return "utf-16-le"
    declared = _DECLARED.match(head)
    if declared is None:
        return None
    label = declared.group(1).decode("ascii")
    try:
        codec = codecs.lookup(label)
    except LookupError:
        codec = None
    unsupported = RejectedFile(f"{name} 的 XML 编码 {label} 不受支持（应为 UTF-8 或 UTF-16）/ "
                               f"{name} declares an unsupported XML encoding {label} (expected UTF-8 or UTF-16)")
    if codec is None:
        raise unsupported
    if codec.name in _WIDE:
        raise RejectedFile(f"{name} 声明为 {label} 编码，实际不是 / {name} declares {label} but is not written in it")
    try:
        ascii_compatible = _ASCII_PROBE.decode(codec.name) == _ASCII_PROBE.decode("ascii")
    except UnicodeDecodeError:
        ascii_compatible = False
    if not ascii_compatible:
        raise unsupported
    return None


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
