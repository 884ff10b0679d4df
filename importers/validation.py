"""Validate every row with the services' clean functions and plan what to write.

Sheets are validated in dependency order (institutions, regulations,
catalog, standards, personnel).  The rows of a sheet are read once, in
batches; the stored records a batch names are looked up in bulk, one query
per chunk of keys; references resolve through :mod:`importers.references`.
Nothing is written here: the plan is applied by :mod:`importers.apply` only
when no row has an error.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

import sqlalchemy as sa

from registry.audit.services import jsonable
from registry.auth.policy import ensure_can_read, ensure_can_write, ensure_own_institution, is_staff
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.catalog.services import clean_line
from registry.records.codes import normalize_certificate_no, normalize_credit_code, normalize_regulation_code
from registry.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.indicators.models import Plan, PlanTarget
from registry.indicators.services import clean_plan, clean_target
from registry.institutions.services import SELF_SERVICE_FIELDS, clean_institution, region_code
from registry.personnel.models import Person
from registry.personnel.services import clean_person
from registry.regulations.models import Regulation
from registry.regulations.services import clean_regulation
from registry.standards.models import MeasurementStandard, standard_catalog_lines, standard_regulations
from registry.standards.models import STATUS_LABELS
from registry.standards.services import clean_standard, follow_on_values, standard_cleaners, status_undated

from importers.cells import CellConverter, to_text
from importers.messages import msg
from importers.reading import SheetLayout, Workbook
from importers.references import Pending, WorkbookReferences
from importers.report import ImportReport
from importers.spec import CATALOG, EXAMPLE_KEYS, INSTITUTIONS, PERSONNEL, PLANS, REGULATIONS, STANDARDS, TARGETS, Sheet

CHUNK = 5_000
# The sheet's last CHUNK rows are read in batches this small: a sheet written while it is checked
# (importers.pipeline) then waits for the writer to move a small last batch, not a whole one.
LAST_CHUNK = 500
LINK_FIELDS = ("catalog_lines", "regulations")

EXAMPLE_ROW = "这是模板的示例行，导入前请删除 / this is the template's example row: delete it before importing"
WITHDRAWN = "记录已撤回，不能通过导入修改 / the record has been withdrawn and cannot be changed by an import"


def only_own() -> str:
    """An institution user's row of another institution (never "not found": the row is theirs to fix)."""
    return msg("只能导入本机构的记录", "Only your institution's records can be imported")


@dataclass(slots=True)
class Operation:
    """A row that creates or updates a record (unchanged rows are only counted)."""

    action: str                       # "created" or "updated"
    row: int
    key: Any
    # created: the new row's values in ``handler.insert_columns`` order; updated: the changed values
    values: Any
    links: dict[str, list] | None = None  # created standards: the lines and regulations given
    current: Any = None               # updated: the stored row
    ref: Pending | None = None        # created: how later sheets named it
    changes: dict[str, tuple] | None = None
    written: bool = False             # created: already written (importers.pipeline)


@dataclass
class SheetPlan:
    handler: SheetHandler
    layout: SheetLayout
    operations: list[Operation] = field(default_factory=list)


class Context:
    """What every sheet shares: actor, references, report, progress."""

    def __init__(self, *, actor: Any, refs: WorkbookReferences, report: ImportReport, today: date,
                 catalog_version: CatalogVersion | None, progress: Callable[[int], None] | None):
        self.actor = actor
        self.staff = is_staff(actor)
        self.refs = refs
        self.report = report
        self.today = today
        self.catalog_version = catalog_version
        self.progress = progress or (lambda n: None)
        # Plans named in this workbook's 规划 sheet: name -> stored id or Pending.
        self.plans: dict[str, Any] = {}
        self.tables: dict[str, StoredTable] = {}
        # Called with a sheet's plan after each batch of its rows is checked (importers.pipeline).
        self.on_batch: Callable[[SheetPlan], None] | None = None


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class StoredTable:
    """A table as it was before the import wrote to it: its size, highest id and, when small, its rows."""

    count: int
    max_id: int | None
    rows: list[sa.Row] | None = None


def load_rows(table: sa.Table, column: sa.Column, keys: Iterable,
              tables: dict[str, StoredTable] | None = None) -> list[sa.Row]:
    """Stored rows whose ``column`` is in ``keys``: one query per chunk of keys.

    When the table holds no more rows than there are keys to look for, one
    scan of the table is cheaper than the chunked ``IN`` lists.  ``tables``
    remembers each table as first seen, before the import wrote to it (a
    long sheet's new records are written while its later rows are still
    being checked, see :mod:`importers.pipeline`): rows written since are
    never matched, and a scanned table is scanned once.
    """
    keys = {k for k in keys if k is not None}
    if not keys:
        return []
    # Timestamps are never compared; parsing them is a good part of loading a row.
    select = sa.select(*[c for c in table.columns if c.name not in ("created_at", "updated_at")])
    stored = tables.get(table.name) if tables is not None else None
    if stored is None:
        has_id = "id" in table.c
        count, max_id = db.session.execute(sa.select(
            sa.func.count(), sa.func.max(table.c.id) if has_id else sa.null()).select_from(table)).one()
        stored = StoredTable(count, max_id)
        if tables is not None:
            tables[table.name] = stored
    if stored.max_id is not None:
        select = select.where(table.c.id <= stored.max_id)
    name = column.name
    if stored.count <= len(keys):
        if stored.rows is None:
            rows = list(db.session.execute(select))
            if tables is None:
                return [row for row in rows if getattr(row, name) in keys]
            stored.rows = rows
        return [row for row in stored.rows if getattr(row, name) in keys]
    rows: list[sa.Row] = []
    for part in chunks(sorted(keys, key=str)):
        rows.extend(db.session.execute(select.where(column.in_(part))).all())
    return rows


class RowFailed(Exception):
    """Errors found in one row: ``[(field or None, message)]``."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        super().__init__(errors)
        self.errors = errors


class SheetHandler(ABC):
    """How one sheet is keyed, matched, cleaned and checked; subclasses fill in the differences."""

    spec: Sheet
    model: type
    key_field: str

    # Fields a row's key is made of (converted in the first pass).
    key_inputs: tuple[str, ...] = ()
    # Columns holding the natural key, to read new ids back by (None: insert one by one).
    key_columns: tuple[str, ...] | None = None
    # Whether matching needs every row of the sheet at once (else it runs a batch at a time).
    match_whole_sheet = False

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.table: sa.Table = self.model.__table__
        columns = [c for c in self.table.columns if c.name != "id"]
        self.insert_columns = [c.name for c in columns]
        self.positions = {name: i for i, name in enumerate(self.insert_columns)}
        self.defaults = [c.default.arg if c.default is not None and c.default.is_scalar else None for c in columns]

    def insert_row(self, values: dict[str, Any]) -> list:
        """A new record's values as a list in ``insert_columns`` order, with the column defaults."""
        row = list(self.defaults)
        positions = self.positions
        for name, value in values.items():
            row[positions[name]] = value
        return row

    # Keys and matching -------------------------------------------------------------

    @abstractmethod
    def key(self, data: dict[str, Any]) -> Any:
        """The natural key of a converted row, or ``None`` when it cannot be read (clean reports why)."""

    def match(self, keyed: list[tuple[int, Any, dict]]) -> dict[int, Any]:
        """The stored row for each sheet row number (absent when new)."""
        existing = {getattr(r, self.key_field): r for r in load_rows(self.table, self.table.c[self.key_field],
                                                                      [k for _, k, _ in keyed], self.ctx.tables)}
        return {row: existing[k] for row, k, _ in keyed if k in existing}

    # Cleaning and access ----------------------------------------------------------

    @abstractmethod
    def clean(self, data: dict[str, Any], current: Any) -> dict[str, Any]:
        """The service's clean function: a new record in full, a stored one partially."""

    def owner_probe(self, current: Any) -> Any:
        """A stand-in record the access policy can judge (owner only)."""
        return None

    def check_access(self, values: dict[str, Any], current: Any, changed: bool) -> None:
        """Apply the access policy: reading for every row, writing for rows that change something.

        An institution user's row of another institution (a stored record of theirs, or a new
        one filed under them) is told so, in one message, rather than "not found".
        """
        actor = self.ctx.actor
        if self.ctx.staff:
            return
        probe = self.owner_probe(current) if current is not None else None
        if probe is not None:
            try:
                ensure_can_read(actor, probe)
            except NotFound:
                raise Forbidden(only_own()) from None
        if not changed:
            return
        ensure_can_write(actor, probe if probe is not None else self.model)
        if "institution_id" in values:
            try:
                ensure_own_institution(actor, values["institution_id"])
            except ValidationError:
                raise Forbidden(only_own(), field="institution_id") from None

    def failed(self, data: dict[str, Any], sheet: str, row: int) -> None:
        """A row whose key could not be read has errors: later sheets naming it are told they depend on it."""

    def define(self, key: Any, ref: Any, values: dict[str, Any] | None) -> None:
        """Make this row's key known to the sheets validated after this one."""

    def compare(self, values: dict[str, Any], current: Any) -> dict[str, tuple]:
        stored = current._mapping  # a Row: its mapping is several times faster than attribute access
        return {name: (stored[name], value) for name, value in values.items() if stored[name] != value}

    def follow_on(self, values: dict[str, Any], current: Any) -> dict[str, Any]:
        return {}

    # Fields given in a row that follow_on must see even when they equal the stored value.
    follow_on_inputs: tuple[str, ...] = ()

    def warnings(self, data: dict[str, Any], values: dict[str, Any], current: Any) -> list[tuple[str, str]]:
        """``[(field, message)]`` about a valid row: reported, never blocking the import."""
        return []


class InstitutionHandler(SheetHandler):
    spec = INSTITUTIONS
    model = Institution
    key_field = "credit_code"
    key_inputs = key_columns = ("credit_code",)

    def key(self, data):
        return _try(normalize_credit_code, data.get("credit_code"))

    def clean(self, data, current):
        return clean_institution(data, partial=current is not None, refs=self.ctx.refs, current=current)

    def owner_probe(self, current):
        return Institution(id=current.id)

    def check_access(self, values, current, changed):
        if current is None and not self.ctx.staff:
            raise Forbidden(only_own())  # a new institution is never the user's own
        super().check_access(values, current, changed)
        if changed and not self.ctx.staff:
            changed_fields = {k for k in values if getattr(current, k) != values[k]}
            if changed_fields - set(SELF_SERVICE_FIELDS):
                raise Forbidden("机构用户只能修改联系人和电话 / institution users may change only contact and phone")

    def define(self, key, ref, values):
        if key is not None:
            self.ctx.refs.define_institution(key, ref)

    def failed(self, data, sheet, row):
        self.ctx.refs.failed("institution", data.get("credit_code"), sheet, row)


class RegulationHandler(SheetHandler):
    spec = REGULATIONS
    model = Regulation
    key_field = "code"
    key_inputs = key_columns = ("code",)

    def key(self, data):
        return _try(normalize_regulation_code, data.get("code"))

    def clean(self, data, current):
        return clean_regulation(data, partial=current is not None, current=current)

    def define(self, key, ref, values):
        if key is not None:
            self.ctx.refs.define_regulation(key, ref)

    def failed(self, data, sheet, row):
        self.ctx.refs.failed("regulation", data.get("code"), sheet, row)


class CatalogHandler(SheetHandler):
    spec = CATALOG
    model = CatalogLine
    key_field = "code"
    key_inputs = ("code", "catalog_version")
    key_columns = ("catalog_version_id", "code")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.versions = {name: (id_, withdrawn) for id_, name, withdrawn in db.session.execute(
            sa.select(CatalogVersion.id, CatalogVersion.name, CatalogVersion.withdrawn_at))}

    def version_id(self, data) -> int | None:
        name = data.get("catalog_version")
        if name is None:
            return self.ctx.catalog_version.id if self.ctx.catalog_version is not None else None
        found = self.versions.get(str(name).strip())
        return found[0] if found and found[1] is None else None

    def key(self, data):
        code = data.get("code")
        version = self.version_id(data)
        if code is None or version is None or not str(code).strip():
            return None
        return version, str(code).strip()

    def match(self, keyed):
        existing = {}
        for row in load_rows(self.table, self.table.c.code, [k[1] for _, k, _ in keyed if k],
                             self.ctx.tables):
            existing[(row.catalog_version_id, row.code)] = row
        return {row: existing[k] for row, k, _ in keyed if k in existing}

    def clean(self, data, current):
        data = dict(data)
        version_name = data.pop("catalog_version", None)
        errors: dict[str, list[str]] = {}
        version = self.version_id({"catalog_version": version_name} if version_name is not None else {})
        if version is None:
            errors["catalog_version"] = [
                f"目录版本不存在：{version_name} / no catalog version named {version_name!r}" if version_name
                else "没有现行的强检目录，请填写目录版本 / no catalog in force: fill in the catalog version"]
        try:
            values = clean_line(data, partial=current is not None)
        except ValidationError as exc:
            errors.update(exc.errors)
            values = {}
        if errors:
            raise ValidationError("目录条目有误 / invalid catalog line", errors=errors)
        if current is None:
            values["catalog_version_id"] = version
        return values

    def define(self, key, ref, values):
        if key is not None and values is not None and key[1]:
            self.ctx.refs.define_line(ref, key[1], values.get("name") or "", values.get("sub_name"))


class StandardHandler(SheetHandler):
    spec = STANDARDS
    model = MeasurementStandard
    key_field = "certificate_no"
    key_inputs = key_columns = ("certificate_no",)

    def key(self, data):
        return _try(normalize_certificate_no, data.get("certificate_no"))

    def match(self, keyed):
        matched = super().match(keyed)
        ids = [r.id for r in matched.values()]
        self.links: dict[str, dict[int, set]] = {"catalog_lines": {}, "regulations": {}}
        for name, table, column in (("catalog_lines", standard_catalog_lines, "catalog_line_id"),
                                    ("regulations", standard_regulations, "regulation_id")):
            found = self.links[name]
            select = sa.select(table.c.standard_id, table.c[column])
            if ids and max(ids) - min(ids) < 2 * len(ids):
                # Mostly consecutive ids (records imported together): one range scan of the primary key.
                wanted = set(ids)
                for standard_id, target in db.session.execute(
                        select.where(table.c.standard_id.between(min(ids), max(ids)))).all():
                    if standard_id in wanted:
                        found.setdefault(standard_id, set()).add(target)
                continue
            for part in chunks(ids):
                for standard_id, target in db.session.execute(select.where(table.c.standard_id.in_(part))).all():
                    found.setdefault(standard_id, set()).add(target)
        return matched

    @cached_property
    def cleaners(self):
        return standard_cleaners(self.ctx.refs)

    def clean(self, data, current):
        return clean_standard(data, partial=current is not None, current=current, refs=self.ctx.refs,
                              cleaners=self.cleaners)

    def owner_probe(self, current):
        return MeasurementStandard(institution_id=current.institution_id)

    def compare(self, values, current):
        changes = {}
        stored = current._mapping
        for name, value in values.items():
            if name in LINK_FIELDS:
                old = self.links[name].get(stored["id"], set())
                if set(value) != old:
                    changes[name] = (sorted(old), value)
            elif stored[name] != value:
                changes[name] = (stored[name], value)
        return changes

    def follow_on(self, values, current):
        return follow_on_values(values, current)

    # A row changing the status and giving the stored status date keeps that date.
    follow_on_inputs = ("status_since",)

    def warnings(self, data, values, current):
        if "status" not in data or not status_undated(values, current):
            return []
        zh, en = STATUS_LABELS[values["status"]]
        return [("status_since", f"状态为“{zh}”但没有状态日期：该标准在任何日期都不计为在用，请填写状态日期 / "
                                 f"status {en.lower()} without its date: the standard counts as in use on no date; "
                                 "fill in 状态日期 (status date)")]


class PersonHandler(SheetHandler):
    """Staff are keyed by registration number, or by name within the institution.

    Several unregistered people of the same name in one institution are
    matched in order (first row to the earliest record), so an exported
    roster imports back unchanged.
    """

    spec = PERSONNEL
    model = Person
    key_field = "registration_no"
    key_inputs = ("registration_no", "name", "institution_id")
    # Unregistered staff have no unique key to read new ids back by.
    key_columns = None
    # Several people of one name are matched in row order over the whole sheet.
    match_whole_sheet = True

    def key(self, data):
        number = data.get("registration_no")
        number = str(number).strip() if number is not None else ""
        if number:
            return ("registration_no", number)
        name = str(data.get("name") or "").strip()
        institution = _try(self.ctx.refs.institution_id, data.get("institution_id"))
        if name and institution is not None:
            return ("name", name, institution)
        return None

    def match(self, keyed):
        numbers = [k[1] for _, k, _ in keyed if k and k[0] == "registration_no"]
        institutions = set()
        for _, key, data in keyed:
            institution = _try(self.ctx.refs.institution_id, data.get("institution_id"))
            if isinstance(institution, int):
                institutions.add(institution)
        by_number = {r.registration_no: r for r in load_rows(self.table, self.table.c.registration_no, numbers)}
        by_name: dict[tuple, list] = {}
        for person in sorted(load_rows(self.table, self.table.c.institution_id, institutions), key=lambda r: r.id):
            by_name.setdefault((person.name, person.institution_id), []).append(person)
        matched, taken = {}, set()
        for row, key, _ in keyed:
            if key and key[0] == "registration_no" and key[1] in by_number:
                matched[row] = by_number[key[1]]
                taken.add(by_number[key[1]].id)
        for row, key, data in keyed:
            if row in matched or not key:
                continue
            if key[0] == "registration_no":
                # A new registration for someone already on the roster without one.
                name = str(data.get("name") or "").strip()
                institution = _try(self.ctx.refs.institution_id, data.get("institution_id"))
                candidates = [p for p in by_name.get((name, institution), ()) if p.registration_no is None]
            else:
                candidates = by_name.get((key[1], key[2]), [])
            person = next((p for p in candidates if p.id not in taken), None)
            if person is not None:
                matched[row] = person
                taken.add(person.id)
        return matched

    def clean(self, data, current):
        return clean_person(data, partial=current is not None, current=current, refs=self.ctx.refs)

    def owner_probe(self, current):
        return Person(institution_id=current.institution_id)


class PlanHandler(SheetHandler):
    """Plans (规划), keyed by name; periods may overlap neither a stored plan nor another row's."""

    spec = PLANS
    model = Plan
    key_field = "name"
    key_inputs = ("name",)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.periods: list[tuple[str, Any, Any]] = []

    def key(self, data):
        name = data.get("name")
        return str(name).strip() if name is not None and str(name).strip() else None

    def clean(self, data, current):
        values = clean_plan(data, partial=current is not None, current=current)
        name = values.get("name", getattr(current, "name", None))
        starts_on = values.get("starts_on", getattr(current, "starts_on", None))
        deadline = values.get("deadline", getattr(current, "deadline", None))
        for other, start, end in self.periods:
            if starts_on <= end and deadline >= start:
                message = (f"与本工作簿中的规划「{other}」（{start}—{end}）期间重叠 / overlaps plan “{other}” "
                           f"({start} to {end}) in this workbook")
                raise ValidationError(message, errors={"starts_on": [message], "deadline": [message]})
        self.periods.append((name, starts_on, deadline))
        return values

    def define(self, key, ref, values):
        if key is not None:
            self.ctx.plans[key] = ref


class TargetHandler(SheetHandler):
    """Targets of a plan (named by the plan's name), for the province or a city."""

    spec = TARGETS
    model = PlanTarget
    key_field = "plan"
    key_inputs = ("plan", "indicator_key", "region_code")
    match_whole_sheet = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.stored_plans = {name: id_ for id_, name in db.session.execute(
            sa.select(Plan.id, Plan.name).where(Plan.withdrawn_at.is_(None)))}

    def plan_ref(self, name: Any) -> Any:
        name = str(name).strip()
        return self.ctx.plans.get(name, self.stored_plans.get(name))

    def key(self, data):
        plan, indicator = data.get("plan"), data.get("indicator_key")
        if plan is None or indicator is None:
            return None
        region = data.get("region_code")
        try:
            code = region_code(region) if region is not None else current_province()
        except ValidationError:
            return None
        return str(plan).strip(), str(indicator).strip(), code

    def match(self, keyed):
        T = PlanTarget.__table__
        rows = db.session.execute(
            sa.select(T, Plan.name.label("plan_name")).join(Plan, Plan.id == T.c.plan_id)
            .where(Plan.name.in_({k[0] for _, k, _ in keyed if k}))).all()
        existing = {(row.plan_name, row.indicator_key, row.region_code): row for row in rows}
        return {number: existing[k] for number, k, _ in keyed if k in existing}

    def clean(self, data, current):
        data = dict(data)
        name = data.pop("plan", None)
        if current is not None:
            for fixed in ("indicator_key", "region_code"):
                data.pop(fixed, None)
            return clean_target(data, partial=True, current=current)
        ref = self.plan_ref(name) if name is not None else None
        if ref is None:
            raise ValidationError("规划不存在 / no such plan",
                                  errors={"plan": [f"规划不存在：{name} / no plan named {name!r}"]})
        return clean_target(data, plan_ref=ref)


def current_province() -> str:
    from flask import current_app

    return current_app.config["PROVINCE_CODE"]


HANDLERS = (InstitutionHandler, RegulationHandler, CatalogHandler, StandardHandler, PersonHandler, PlanHandler,
            TargetHandler)


def _try(fn: Callable, value: Any) -> Any:
    if value is None:
        return None
    try:
        return fn(value)
    except ValidationError:
        return None


def validate_sheet(ctx: Context, book: Workbook, layout: SheetLayout, handler: SheetHandler) -> SheetPlan:
    """Check every row of one sheet; errors go to the report, creations and updates to the plan."""
    plan = SheetPlan(handler=handler, layout=layout)
    report, spec = ctx.report, layout.spec
    converters = [(index, column.field, CellConverter(column).convert) for index, column in layout.columns.items()]
    key_converters = [c for c in converters if c[1] in handler.key_inputs]
    required = [column.field for column in layout.columns.values() if column.required]
    headers = {column.field: column.header for column in spec.columns}
    key_header = headers.get(handler.key_field, spec.columns[0].header)
    start = layout.header_row + 1

    # Rows are read once, in batches: a batch's keys are looked up together (one query
    # per chunk of keys), then its rows are checked.  A handler that matches over the
    # whole sheet reads the keys of every row first, then the rows again.
    # A batch's rows are converted once, in full (the key read from the same values); a sheet
    # matched as a whole converts its keys first and each row again when it is checked.
    def keyed_rows(rows: Iterable[tuple[int, list]], converting: list) -> list[tuple[int, Any, dict, dict]]:
        out = []
        for number, cells in rows:
            if _blank_row(cells, converters):
                continue
            data, bad = _convert(cells, converting)
            out.append((number, handler.key(data), data, bad))
        return out

    def batches() -> Iterator[tuple[Iterable[tuple[int, Any, Any]], dict[int, Any]]]:
        rows = book.rows(layout.name, start=start)
        if handler.match_whole_sheet:
            keyed = [(number, key, data) for number, key, data, _ in keyed_rows(rows, key_converters)]
            keys = {number: key for number, key, _ in keyed}
            matched = handler.match(keyed)
            del keyed
            yield ((number, keys[number], _convert(cells, converters))
                   for number, cells in book.rows(layout.name, start=start) if number in keys), matched
            return
        left = book.data_rows(layout.name, layout.header_row)
        while True:
            read = list(islice(rows, CHUNK if left >= 2 * CHUNK or LAST_CHUNK >= CHUNK else LAST_CHUNK))
            if not read:
                return
            left -= len(read)
            batch = keyed_rows(read, converters)  # blank rows left out (a batch may be all blank)
            del read
            if batch:
                yield ((number, key, (data, bad)) for number, key, data, bad in batch), \
                    handler.match([(number, key, data) for number, key, data, _ in batch])

    # Pass 2: clean with the service, compare, check access.
    first_row_of: dict[Any, int] = {}
    counts = report.sheets[spec.title]
    operations = plan.operations
    example = EXAMPLE_KEYS.get(spec.kind)
    catalog, personnel, targets = spec is CATALOG, spec is PERSONNEL, spec is TARGETS
    required_fields = frozenset(required)
    clean, define = handler.clean, handler.define
    warn = handler.warnings if type(handler).warnings is not SheetHandler.warnings else None
    done = 0
    for rows, matched in batches():
        for number, key, (data, bad) in rows:
            done += 1
            if done % 1000 == 0:
                ctx.progress(1000)
            current = matched.get(number)
            errors: list[tuple[str | None, str]] = list(bad.items()) if bad else []
            if not required_fields <= data.keys():
                for name in required:
                    if name not in data and name not in bad:
                        errors.append((name, "必填 / required"))
            if key is not None:
                if key == example or (catalog and key[1] == example) or (targets and key[0] == example):
                    errors.append((handler.key_field, EXAMPLE_ROW))
                if not (personnel and key[0] == "name"):
                    if key in first_row_of:
                        errors.append((handler.key_field,
                                       f"与第{first_row_of[key]}行重复 / same key as row {first_row_of[key]}"))
                    else:
                        first_row_of[key] = number
            values = None
            try:
                if current is not None and getattr(current, "withdrawn_at", None) is not None:
                    raise Conflict(WITHDRAWN)
                values = clean(data, current)
            except ValidationError as exc:
                errored = {name for name, _ in errors}
                for name, messages in (exc.errors or {None: [exc.message]}).items():
                    if name not in errored:
                        errors.extend((name, message) for message in messages)
            except DomainError as exc:
                errors.append((exc.field or handler.key_field, exc.message))
            operation = None
            if values is not None and not errors:
                try:
                    operation = _plan_row(handler, number, key, values, current)
                except DomainError as exc:
                    errors.append((exc.field or handler.key_field, exc.message))
            if errors:
                for name, message in errors:
                    report.error(layout.name, number, headers.get(name, key_header if name is None else name), message)
                # Later sheets may name this key: resolve it rather than report it again; a key
                # that could not be read is remembered as this row's, for the rows that name it.
                define(key, Pending(spec.kind, key) if current is None else current.id, values or data)
                if key is None:
                    handler.failed(data, layout.name, number)
                continue
            if warn is not None:
                for name, message in warn(data, values, current):
                    report.warn(layout.name, number, headers.get(name, name), message)
            if operation is None:
                counts["unchanged"] += 1
                define(key, current.id, values)
            else:
                operations.append(operation)
                counts[operation.action] += 1
                define(key, operation.ref if operation.ref is not None else current.id, values)
        if ctx.on_batch is not None:
            ctx.on_batch(plan)
    ctx.progress(done % 1000)
    return plan


def _blank_row(cells: list, converters: list) -> bool:
    width = len(cells)
    for index, _, _ in converters:
        if index < width:
            value = cells[index]
            if value is not None and value != "" and not (value.__class__ is str and not value.strip()):
                return False
    return True


def _convert(cells: list, converters: list) -> tuple[dict[str, Any], dict[str, str]]:
    """Cell values for the service (blank cells left out), and conversion errors by field."""
    data: dict[str, Any] = {}
    bad: dict[str, str] = {}
    width = len(cells)
    for index, name, convert in converters:
        if index >= width:
            continue
        value = cells[index]
        if value.__class__ is str:
            if not value or value.isspace():
                continue
            if convert is to_text:  # text as typed
                data[name] = value
                continue
        elif value is None:
            continue
        try:
            data[name] = convert(value)
        except ValidationError as exc:
            bad[name] = exc.message
    return data, bad


def _plan_row(handler: SheetHandler, number: int, key: Any, values: dict[str, Any],
              current: Any) -> Operation | None:
    """The operation for a valid row, or ``None`` when it changes nothing."""
    if current is None:
        handler.check_access(values, None, True)
        values.update(handler.follow_on(values, None))
        links = {name: values.pop(name) for name in LINK_FIELDS if name in values} or None
        return Operation("created", number, key, handler.insert_row(values), links=links,
                         ref=Pending(handler.spec.kind, key))
    changes = handler.compare(values, current)
    handler.check_access(values, current, bool(changes))
    if not changes:
        return None
    changed = {name: values[name] for name in changes}
    given = {name: values[name] for name in handler.follow_on_inputs if name in values and name not in changed}
    for name, value in handler.follow_on({**changed, **given}, current).items():
        if getattr(current, name) != value:
            changes[name] = (getattr(current, name), value)
            changed[name] = value
    return Operation("updated", number, key, changed, current=current, changes=changes)


def diff_entry(sheet: str, operation: Operation) -> dict[str, Any]:
    """A dry run's view of one updated row: ``{field: [old, new]}``."""
    return {
        "sheet": sheet,
        "row": operation.row,
        "key": str(operation.key[-1] if isinstance(operation.key, tuple) else operation.key),
        "changes": {name: [_show(old), _show(new)] for name, (old, new) in operation.changes.items()},
    }


def _show(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return [_show(v) for v in value]
    if isinstance(value, Pending):
        return str(value)
    return jsonable(value)
