"""Resolve what people type in a workbook to records, from maps loaded once per import.

The services' clean functions call these (``refs=``) instead of querying per
row.  A key defined earlier in the same workbook resolves to a
:class:`Pending` record, replaced by its id when the import is applied.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from registry.catalog.models import CatalogLine, CatalogVersion
from registry.records.codes import normalize_credit_code, normalize_regulation_code
from registry.errors import ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.reference.models import Discipline, Region
from registry.regulations.models import Regulation

from importers.cells import to_list, to_text
from importers.messages import msg


@dataclass(frozen=True)
class Pending:
    """A record defined in this workbook and not yet written: ``(sheet kind, natural key)``."""

    kind: str
    key: Any

    def __str__(self) -> str:
        return str(self.key[-1] if isinstance(self.key, tuple) else self.key)


def fold(text: Any) -> str:
    """Compare names after folding full-width characters, spaces and case."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def catalog_in_force(today: date) -> CatalogVersion | None:
    """The catalog in force: latest ``effective_from`` on or before today, not withdrawn."""
    return db.session.scalar(
        sa.select(CatalogVersion)
        .where(CatalogVersion.effective_from <= today, CatalogVersion.withdrawn_at.is_(None))
        .order_by(CatalogVersion.effective_from.desc(), CatalogVersion.id.desc())
        .limit(1)
    )


def _remembered(method):
    """Answer each distinct value once: the same codes repeat on thousands of rows."""
    name = method.__name__

    def lookup(self, value):
        cache = self._answers[name]
        key = tuple(value) if value.__class__ is list else value
        try:
            answer = cache[key]
        except KeyError:
            try:
                answer = method(self, value)
            except ValidationError as exc:
                answer = exc
            cache[key] = answer
        except TypeError:  # not hashable
            return method(self, value)
        if answer.__class__ is list:
            return list(answer)
        if isinstance(answer, ValidationError):
            raise ValidationError(answer.message)
        return answer

    lookup.__name__ = lookup.__qualname__ = name
    lookup.__doc__ = method.__doc__
    return lookup


class WorkbookReferences:
    """:class:`registry.records.fields.References` over maps of the database plus this workbook."""

    def __init__(self, *, today: date, catalog: CatalogVersion | None):
        self.catalog = catalog
        self._answers: dict[str, dict] = {name: {} for name in (
            "region_code", "institution_id", "discipline_code", "catalog_lines", "regulations")}
        self.regions: dict[str, str] = {}
        for code, name in db.session.execute(sa.select(Region.code, Region.name)):
            self.regions[code] = code
            self.regions.setdefault(name, code)
        self.disciplines: dict[str, str] = {}
        for code, name, name_en in db.session.execute(sa.select(Discipline.code, Discipline.name, Discipline.name_en)):
            for spelling in (code, name, name_en, f"{code}{name}"):
                self.disciplines[fold(spelling)] = code
        self.discipline_codes = {code for code in self.disciplines.values()}
        # credit code -> id, Pending, or None for a withdrawn institution
        self.institution_refs: dict[str, Any] = {
            code: (None if withdrawn else id_)
            for id_, code, withdrawn in db.session.execute(
                sa.select(Institution.id, Institution.credit_code, Institution.withdrawn_at))
        }
        self.regulation_refs: dict[str, Any] = {
            code: (None if withdrawn else id_)
            for id_, code, withdrawn in db.session.execute(
                sa.select(Regulation.id, Regulation.code, Regulation.withdrawn_at))
        }
        # Catalog lines: the version in force, then (taking precedence) this workbook's lines.
        self._lines_db = _LineIndex()
        if catalog is not None:
            for id_, code, name, sub_name in db.session.execute(
                    sa.select(CatalogLine.id, CatalogLine.code, CatalogLine.name, CatalogLine.sub_name)
                    .where(CatalogLine.catalog_version_id == catalog.id, CatalogLine.withdrawn_at.is_(None))
                    .order_by(CatalogLine.code)):
                self._lines_db.add(id_, code, name, sub_name)
        self._lines_book = _LineIndex()
        # Keys of rows with errors whose key could not be read: kind -> folded text -> (sheet, row).
        self._failed: dict[str, dict[str, tuple[str, int]]] = {"institution": {}, "regulation": {}}

    def failed(self, kind: str, value: Any, sheet: str, row: int) -> None:
        """Row ``row`` of ``sheet`` has errors and its key ``value`` could not be read.

        A later row naming the same text is then told it depends on that row (the root error
        is reported once, where it is) instead of repeating the root's error or "not found".
        """
        if value is None or not str(value).strip():
            return
        self._failed[kind].setdefault(fold(value), (sheet, row))
        for answers in self._answers.values():
            answers.clear()

    def _depends(self, kind: str, values: list) -> str | None:
        roots = [self._failed[kind].get(fold(value)) for value in values]
        if not roots or None in roots:
            return None
        return "; ".join(dict.fromkeys(msg(f"依赖 {sheet} 第{row}行，该行有错误",
                                           f"depends on {sheet} row {row}, which has an error")
                                       for sheet, row in roots))

    # --- what this workbook defines -------------------------------------------------

    def define_institution(self, credit_code: str, ref: Any) -> None:
        self.institution_refs[credit_code] = ref
        self._answers["institution_id"].clear()

    def define_regulation(self, code: str, ref: Any) -> None:
        self.regulation_refs[code] = ref
        self._answers["regulations"].clear()

    def define_line(self, ref: Any, code: str, name: str, sub_name: str | None) -> None:
        self._lines_book.add(ref, code, name, sub_name)
        self._answers["catalog_lines"].clear()

    # --- registry.records.fields.References ---------------------------------------------------

    @_remembered
    def region_code(self, value: Any) -> str:
        text = to_text(value).strip() if value is not None else ""
        code = self.regions.get(text) or self.regions.get(text + "市")
        if code is None:
            raise ValidationError(f"未知地区：{text} / unknown region {text!r}")
        return code

    @_remembered
    def institution_id(self, value: Any) -> Any:
        try:
            code = normalize_credit_code(value)
        except ValidationError:
            depends = self._depends("institution", [value])
            if depends is None:
                raise
            raise ValidationError(depends) from None
        ref = self.institution_refs.get(code)
        if ref is None:
            depends = self._depends("institution", [value])
            raise ValidationError(depends or f"机构不存在：{code} / no institution with credit code {code}")
        return ref

    @_remembered
    def discipline_code(self, value: Any) -> str | None:
        text = to_text(value).strip() if value is not None else ""
        if not text:
            return None
        if text.isdigit() and len(text) == 1:
            text = "0" + text  # "04" typed as a number
        code = self.disciplines.get(fold(text))
        if code is None:
            raise ValidationError(f"未知专业：{text} / unknown discipline {text!r}")
        return code

    def discipline_exists(self, code: str) -> bool:
        return code in self.discipline_codes

    @_remembered
    def catalog_lines(self, value: Any) -> list:
        tokens = value if isinstance(value, list) else to_list(value)
        found, missing = [], []
        for token in tokens:
            refs = self._lines_book.find(token) or self._lines_db.find(token)
            if refs:
                found.extend(ref for ref in refs if ref not in found)
            else:
                missing.append(token)
        if missing:
            where = f"（{self.catalog.name}）" if self.catalog is not None else ""
            raise ValidationError(f"强检目录{where}中没有：{'、'.join(missing)} / no such catalog line: "
                                  f"{', '.join(missing)}")
        return found

    @_remembered
    def regulations(self, value: Any) -> list:
        tokens = value if isinstance(value, list) else to_list(value)
        found, missing = [], []
        for token in tokens:
            try:
                code = normalize_regulation_code(token)
            except ValidationError:
                missing.append(token)
                continue
            ref = self.regulation_refs.get(code)
            if ref is None:
                missing.append(token)
            elif ref not in found:
                found.append(ref)
        if missing:
            depends = self._depends("regulation", missing)
            raise ValidationError(depends or f"规程不存在：{'、'.join(missing)} / no such regulation: "
                                             f"{', '.join(missing)}")
        return found



class _LineIndex:
    """Catalog lines by code, by 一级·二级 label, by second-level and by first-level name."""

    def __init__(self) -> None:
        self.by_code: dict[str, list] = {}
        self.by_label: dict[str, list] = {}
        self.by_sub_name: dict[str, list] = {}
        self.by_name: dict[str, list] = {}

    def add(self, ref: Any, code: str, name: str, sub_name: str | None) -> None:
        self.by_code.setdefault(fold(code), []).append(ref)
        self.by_name.setdefault(fold(name), []).append(ref)
        if sub_name:
            self.by_sub_name.setdefault(fold(sub_name), []).append(ref)
            self.by_label.setdefault(fold(f"{name}·{sub_name}"), []).append(ref)

    def find(self, token: str) -> list:
        """A code names one line; a second-level name its lines; a first-level name all lines under it."""
        key = fold(token)
        return (self.by_code.get(key) or self.by_label.get(key) or self.by_sub_name.get(key)
                or self.by_name.get(key) or [])
