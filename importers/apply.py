"""Write a validated plan: bulk INSERT and UPDATE (executemany), links, and one audit row per record.

Runs inside the caller's transaction and flushes nothing through the ORM unit
of work: rows go to the database in batches, updates check and bump each
record's version (a record changed by someone else since it was read fails
the whole import), and the audit rows carry the same before/after data as
:func:`registry.records.services.audited_create` and ``audited_update``.  The
creation events are built by the database from the rows just written
(:func:`snapshot_json`), which spares building and encoding 100,000
snapshots in Python; a test checks they equal the Python ones.
"""
from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from registry.audit.models import AuditEvent
from registry.audit.services import event_values, jsonable
from registry.errors import StaleEdit
from registry.extensions import db
from registry.standards.models import (
    MeasurementStandard, StandardStatusPeriod, standard_catalog_lines, standard_regulations,
)
from registry.standards.services import CertificateChanges, ended_status_period
from registry.standards.validity import forget_status_periods

from importers.bulk import BulkInsert, deferred_indexes
from importers.references import Pending
from importers.validation import LINK_FIELDS, Operation, SheetPlan, chunks

# Link tables of a standard, and the names its audit snapshots use for them.
LINKS = {
    "catalog_lines": (standard_catalog_lines, "catalog_line_id", "catalog_line_ids"),
    "regulations": (standard_regulations, "regulation_id", "regulation_ids"),
}
_NOT_AUDITED = ("created_at", "updated_at", "version")
_PAGE = 2_000


def bound_ids(dialect_name: str) -> Callable[[sa.Column], sa.ColumnElement[bool]]:
    """The records whose ids are bound as ``ids``: on PostgreSQL one array parameter, however many ids (a
    statement takes at most 65,535 parameters); elsewhere an expanding list."""
    if dialect_name == "postgresql":
        array = sa.bindparam("ids", type_=ARRAY(sa.Integer))
        return lambda column: column == sa.any_(array)
    listed = sa.bindparam("ids", expanding=True)
    return lambda column: column.in_(listed)


class Applier:
    """Apply sheet plans in dependency order, turning :class:`Pending` references into ids."""

    def __init__(self, *, actor: Any, now: datetime, note: str):
        self.actor = actor
        self.now = now
        self.ids: dict[Pending, int] = {}
        self.connection = db.session.connection()
        table = AuditEvent.__table__
        columns = [c.name for c in table.columns if c.name != "id"]
        fixed = ("occurred_at", "actor_id", "actor_label", "note", "request_id")
        self.audit_insert = BulkInsert(self.connection, table, columns, constants=fixed)
        self.event = event = event_values("create", "", "", actor=actor, note=note) | {"occurred_at": now}
        self.event_template = [self.audit_insert.convert(name, event[name]) if name in fixed else event[name]
                               for name in columns]
        self.event_slots = [columns.index(name) for name in ("action", "entity_type", "entity_id", "before",
                                                             "after")]
        self.audit: list[list] = []

    def apply(self, plans: list[SheetPlan]) -> None:
        """Write every operation of ``plans`` not written yet (see :mod:`importers.pipeline`)."""
        events = sum(len(plan.operations) for plan in plans)
        with deferred_indexes(self.connection, AuditEvent.__table__, events):
            for plan in plans:
                self._insert(plan, [op for op in plan.operations if op.action == "created" and not op.written])
                self._update(plan, [op for op in plan.operations if op.action == "updated"])
            self._flush_audit()
        # Objects already in the session may describe rows changed above.
        db.session.expire_all()

    def new_rows(self, handler: Any, operations: list[Operation]) -> tuple[BulkInsert, list[list]]:
        """The INSERT of ``handler``'s table and the rows of ``operations``, references resolved, not converted."""
        position = handler.positions
        constants = {"created_at": self.now, "updated_at": self.now, "version": 1}
        insert = BulkInsert(self.connection, handler.table, handler.insert_columns, constants=tuple(constants))
        rows = [op.values for op in operations]
        for name in ("institution_id", "plan_id"):  # references to records of an earlier sheet
            index = position.get(name)
            if index is not None:
                ids = self.ids
                for row in rows:
                    if isinstance(row[index], Pending):
                        row[index] = ids[row[index]]
        for name, value in constants.items():
            # Rows inserted one by one go through SQLAlchemy, which converts them itself.
            index, converted = position[name], value if handler.key_columns is None else insert.convert(name, value)
            for row in rows:
                row[index] = converted
        return insert, rows

    def link_pairs(self, operations: list[Operation], name: str, owner: Callable[[int, Operation], int]) -> list[list]:
        """``[owner, target]`` rows of link ``name`` for new records (``owner(index, op)`` names the record)."""
        targets = self._targets()
        return [[owner(index, op), target] for index, op in enumerate(operations) if op.links and name in op.links
                for target in targets(op.links[name])[1]]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Pending):
            return self.ids[value]
        if isinstance(value, list):
            return [self.ids[v] if isinstance(v, Pending) else v for v in value]
        return value

    def _events(self, action: str, entity_type: str, entity_ids: list[int], befores: list, afters: list) -> None:
        """Queue audit rows (written in pages, with the records they describe)."""
        a, t, i, b, f = self.event_slots
        template = self.event_template
        for entity_id, before, after in zip(entity_ids, befores, afters):
            row = list(template)
            row[a], row[t], row[i], row[b], row[f] = action, entity_type, str(entity_id), before, after
            self.audit.append(row)
        if len(self.audit) >= _PAGE:
            self._flush_audit()

    def _flush_audit(self) -> None:
        self.audit_insert.execute(self.audit)
        self.audit = []

    def _insert(self, plan: SheetPlan, operations: list[Operation]) -> None:
        """INSERT new records in batches, read their ids back, write their links and audit rows."""
        if not operations:
            return
        handler = plan.handler
        table: sa.Table = handler.table
        names = [name for name in handler.positions if name not in _NOT_AUDITED]
        values_of = itemgetter(*[handler.positions[name] for name in names])
        dated = [name for name in names if isinstance(table.c[name].type, (sa.Date, sa.DateTime))]
        # Decimals go into snapshots as text, as jsonable() writes them.
        decimal = [name for name in names
                   if isinstance(table.c[name].type, sa.Numeric) and not isinstance(table.c[name].type, sa.Float)]
        links = [name for name in LINK_FIELDS if any(op.links and name in op.links for op in operations)]
        targets = self._targets()
        # The audit rows are built by the database from the rows just written, when it can build
        # them exactly as Python would (see snapshot_json); otherwise here, from the values.
        audit_select, unsupported = self.audit_select(handler, links)
        # SQLite binds a page's ids one by one; PostgreSQL takes the sheet's in one array, in one statement.
        audited_later: list[int] = []
        one_statement = self.connection.dialect.name == "postgresql"
        # A new standard's certificate starts its certificate history, as the form and the API record it.
        history = None
        if table.name == "measurement_standards":
            from registry.standards.services import record_current_certificates

            history = record_current_certificates(lambda column: column.in_(sa.bindparam("ids", expanding=True)))
        with ExitStack() as stack:
            stack.enter_context(deferred_indexes(self.connection, table, len(operations)))
            for name in links:
                stack.enter_context(deferred_indexes(self.connection, LINKS[name][0], len(operations)))
            for part in chunks(operations, _PAGE):
                insert, rows = self.new_rows(handler, part)
                in_sql = audit_select is not None and not any(row[i] is not None for i in unsupported for row in rows)
                snapshots = None
                if not in_sql:
                    # Taken before the insert: BulkInsert converts the rows in place.
                    snapshots = [dict(zip(names, values_of(row))) for row in rows]
                    for name in dated:
                        for snapshot in snapshots:
                            value = snapshot[name]
                            if value is not None:
                                snapshot[name] = value.isoformat()
                    for name in decimal:
                        for snapshot in snapshots:
                            if snapshot[name] is not None:
                                snapshot[name] = str(snapshot[name])
                new_ids = self._insert_rows(handler, insert, rows, part)
                if history is not None:
                    self.connection.execute(history, {"ids": new_ids})
                ids = self.ids
                for op, new_id in zip(part, new_ids):
                    ids[op.ref] = new_id
                for name in links:
                    link_table, column, _ = LINKS[name]
                    pairs = self.link_pairs(part, name, lambda _, op: ids[op.ref])
                    BulkInsert(self.connection, link_table, ["standard_id", column]).execute(pairs)
                if in_sql:
                    if one_statement:
                        audited_later.extend(new_ids)
                    else:
                        self.connection.execute(audit_select, {"ids": new_ids})
                    continue
                for op, snapshot, new_id in zip(part, snapshots, new_ids):
                    snapshot["id"] = new_id
                    for name in links:
                        snapshot[LINKS[name][2]] = targets(op.links.get(name, ()))[0] if op.links else []
                self._events("create", table.name, new_ids, [None] * len(snapshots), snapshots)
            if audited_later:
                self.connection.execute(audit_select, {"ids": audited_later})

    def audit_select(self, handler: Any, links: list[str],
                     chosen: Callable[[sa.Column], sa.ColumnElement] | None = None
                     ) -> tuple[sa.Insert | None, list[int]]:
        """The creation events of ``handler``'s new rows, built in SQL, for the ids bound as ``ids``.

        ``chosen(id column)``, when given, selects the rows instead.  Returned
        with the positions of the columns the database cannot render as
        Python does (see :func:`snapshot_supported`): rows where one is set
        need Python's snapshots.  ``None`` when the database has no JSON functions.
        """
        table = handler.table
        names = [name for name in handler.positions if name not in _NOT_AUDITED]
        select = self._audit_select(table, names, links, chosen)
        return select, [handler.positions[name] for name in names if not snapshot_supported(table.c[name])]

    def _audit_select(self, table: sa.Table, names: list[str], links: list[str],
                      chosen: Callable[[sa.Column], sa.ColumnElement] | None = None) -> sa.Insert | None:
        """``INSERT INTO audit_events ... SELECT`` the creation events of the rows whose ids are bound as ``ids``."""
        dialect = self.connection.dialect
        chosen = chosen or bound_ids(dialect.name)
        source: sa.FromClause = table
        linked = []
        for name in links:
            link_table, column, key = LINKS[name]
            target, owner = link_table.c[column], link_table.c.standard_id
            if dialect.name == "sqlite":
                # The link table's primary key (standard_id, target) finds each record's links in order.
                ordered = (sa.select(target.label("target")).where(owner == table.c.id).order_by(target)
                           .correlate(table).subquery())
                value = sa.select(sa.func.json_group_array(ordered.c.target)).scalar_subquery()
            else:
                # One grouped pass joined by hash: a subquery per row would scan a table loaded in this
                # transaction (no statistics yet) once per row.
                grouped = (sa.select(owner.label("owner"), sa.func.json_agg(aggregate_order_by(target, target))
                                     .label("targets"))
                           .where(chosen(owner)).group_by(owner).subquery())
                source = source.outerjoin(grouped, grouped.c.owner == table.c.id)
                value = sa.func.coalesce(grouped.c.targets, sa.cast(sa.literal("[]"), sa.JSON))
            linked.append((key, value))
        after = snapshot_json([(name, table.c[name]) for name in names] + [("id", table.c.id)], dialect, linked)
        if after is None:
            return None
        audit = AuditEvent.__table__
        event = self.event
        constant = {name: sa.literal(event[name], audit.c[name].type) if event[name] is not None
                    else sa.null() for name in ("occurred_at", "actor_id", "actor_label", "note", "request_id")}
        select = sa.select(
            constant["occurred_at"], constant["actor_id"], constant["actor_label"], constant["note"],
            constant["request_id"], sa.literal("create"), sa.literal(table.name),
            sa.cast(table.c.id, sa.String), json_null(dialect), after,
        ).select_from(source).where(chosen(table.c.id))
        return sa.insert(audit).from_select(
            ["occurred_at", "actor_id", "actor_label", "note", "request_id", "action", "entity_type", "entity_id",
             "before", "after"], select)

    def _targets(self) -> Callable[[Any], tuple[list, set]]:
        """Resolve a list of link targets once per distinct list: ``(sorted ids, set of ids)``.

        The sorted list goes into audit snapshots (read-only, so rows may share it).
        """
        known: dict[tuple, tuple[list, set]] = {}

        def targets(given: Any) -> tuple[list, set]:
            key = tuple(given)
            try:
                return known[key]
            except KeyError:
                resolved = self.resolve(list(given))
                known[key] = answer = (sorted(resolved), set(resolved))
                return answer

        return targets

    def _insert_rows(self, handler: Any, insert: BulkInsert, rows: list[list], part: list[Operation]) -> list[int]:
        table = handler.table
        if handler.key_columns is None:
            # No unique key to read ids back by: one INSERT ... RETURNING per row.
            statement = sa.insert(table).returning(table.c.id)
            return [self.connection.execute(statement, dict(zip(handler.insert_columns, row))).scalar_one()
                    for row in rows]
        before = self.connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        insert.execute(rows)
        keys = [table.c[name] for name in handler.key_columns]
        found = {}
        for new_id, *key in self.connection.execute(sa.select(table.c.id, *keys).where(table.c.id > before)):
            found[key[0] if len(key) == 1 else tuple(key)] = new_id
        return [found[op.key] for op in part]

    def _update(self, plan: SheetPlan, operations: list[Operation]) -> None:
        if not operations:
            return
        table: sa.Table = plan.handler.table
        # Renewed and corrected certificates in the certificate history, as the form and the API keep it.
        certificates = CertificateChanges()
        if table.name == MeasurementStandard.__tablename__:
            for op in operations:
                certificates.note(op.current.id, op.values, op.current)
            certificates.before(db.session.execute)
        fields_of = lambda op: tuple(sorted(name for name in op.values if name not in LINK_FIELDS))  # noqa: E731
        for fields, group in groupby(sorted(operations, key=fields_of), key=fields_of):
            group = list(group)
            if fields:
                statement = (
                    sa.update(table)
                    .where(table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_version"))
                    .values({name: sa.bindparam("v_" + name) for name in fields}
                            | {"version": sa.bindparam("_new_version"), "updated_at": sa.bindparam("_now")})
                )
                for part in chunks(group, _PAGE):
                    params = []
                    for op in part:
                        param = {"_id": op.current.id, "_version": op.current.version,
                                 "_new_version": op.current.version + 1, "_now": self.now}
                        for name in fields:
                            param["v_" + name] = self.resolve(op.values[name])
                        params.append(param)
                    result = db.session.execute(statement, params)
                    if result.rowcount not in (-1, len(params)) and _sane_multi_rowcount():
                        raise StaleEdit("导入期间有记录被他人修改，请重新导入 / records changed while the import was "
                                        "running: import the file again")
            elif any(name in op.values for op in group for name in LINK_FIELDS):
                # Only links changed: the record's version still moves, as with an edit.
                statement = (sa.update(table)
                             .where(table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_version"))
                             .values(version=sa.bindparam("_new_version"), updated_at=sa.bindparam("_now")))
                db.session.execute(statement, [{"_id": op.current.id, "_version": op.current.version,
                                                "_new_version": op.current.version + 1, "_now": self.now}
                                               for op in group])
            for op in group:
                before, after = {}, {}
                for name, (old, new) in op.changes.items():
                    label = LINKS[name][2] if name in LINKS else name
                    before[label] = _audit_value(old)
                    after[label] = _audit_value(self.resolve(new))
                self._events("update", table.name, [op.current.id], [before], [after])
        if table.name == MeasurementStandard.__tablename__:
            self._status_periods(operations)
            certificates.after(db.session.execute)
        for name, (link_table, column, _) in LINKS.items():
            changed = [op for op in operations if name in op.values]
            for part in chunks(changed, _PAGE):
                db.session.execute(sa.delete(link_table).where(
                    link_table.c.standard_id.in_([op.current.id for op in part])))
                pairs = [[op.current.id, target] for op in part for target in set(self.resolve(op.values[name]))]
                BulkInsert(self.connection, link_table, ["standard_id", column]).execute(pairs)


    def _status_periods(self, operations: list[Operation]) -> None:
        """The status periods the rows end (registry.standards.services.ended_status_period), and their flag."""
        today = self.now.date()
        periods = [period for op in operations
                   if (period := ended_status_period(op.values, op.current, today=today)) is not None]
        if not periods:
            return
        BulkInsert(self.connection, StandardStatusPeriod.__table__,
                   ["standard_id", "status", "started_on", "ended_on", "created_at"]).execute(
            [[p["standard_id"], p["status"], p["started_on"], p["ended_on"], self.now] for p in periods])
        forget_status_periods()
        table = MeasurementStandard.__table__
        for part in chunks(sorted({p["standard_id"] for p in periods}), _PAGE):
            db.session.execute(table.update().where(table.c.id.in_(part)).values(has_status_periods=True))


# --- audit snapshots built by the database ---------------------------------------------

# Column types whose stored value the database turns into the same JSON as
# registry.audit.services.jsonable: text, numbers, dates (ISO text), booleans, JSON.
_SNAPSHOT_TYPES = (sa.String, sa.Integer, sa.Float, sa.Date, sa.Boolean, sa.JSON)


def snapshot_supported(column: sa.Column) -> bool:
    """Whether the database renders this column in a snapshot as Python does.

    Not timestamps (their text differs from ``isoformat()``) nor decimals (kept as text).
    """
    kind = column.type
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return False
    return isinstance(kind, _SNAPSHOT_TYPES)


def snapshot_json(fields: list[tuple[str, sa.ColumnElement]], dialect: sa.Dialect,
                  extra: list[tuple[str, sa.ColumnElement]] = ()) -> sa.ColumnElement | None:
    """A JSON object of ``fields`` (``(key, column)``) built in SQL, equal once decoded to the Python snapshot.

    Columns of other types (timestamps) are written as JSON null: the caller
    uses this only for rows where they are null (new records).  ``extra``
    pairs are JSON values already (link id arrays).  ``None`` when the
    database has no JSON functions the registry knows.
    """
    if dialect.name == "sqlite":
        build = sa.func.json_object
    elif dialect.name == "postgresql":
        build = sa.func.json_build_object
    else:
        return None
    arguments: list[Any] = []
    for key, column in fields:
        value: Any = column
        if not snapshot_supported(column):
            value = sa.null()
        elif dialect.name == "sqlite" and isinstance(column.type, sa.Boolean):
            value = sa.case((column.is_(None), sa.null()), (column == sa.true(), sa.func.json("true")),
                            else_=sa.func.json("false"))
        elif dialect.name == "sqlite" and isinstance(column.type, sa.JSON):
            value = sa.func.json(column)
        arguments += [sa.literal(key), value]
    for key, value in extra:
        arguments += [sa.literal(key), value]
    if dialect.name == "postgresql" and len(arguments) > 100:  # json_build_object takes at most 100 arguments
        return None
    return build(*arguments)


def json_null(dialect: sa.Dialect) -> sa.ColumnElement:
    """JSON ``null`` as the ORM stores ``None`` in a JSON column (not SQL NULL)."""
    if dialect.name == "postgresql":
        return sa.cast(sa.literal("null"), sa.JSON)
    return sa.literal("null")


def _audit_value(value: Any) -> Any:
    if isinstance(value, (list, set, tuple)):
        return sorted(value)
    return jsonable(value)


def _sane_multi_rowcount() -> bool:
    return bool(db.session.connection().dialect.supports_sane_multi_rowcount)
