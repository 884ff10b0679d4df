"""A record's history in words: field labels, readable values, who and how.

The audit trail stores columns and raw values (``institution_id: 1``,
``issued_on: "2026-01-01"``, ``action: "update"``); a history table on a page
shows the form's labels and the values a person recognises (the institution's
name, a date as a date, "changed by the import of 2026-12-05").  Columns that
are internal (ids, hashes, values derived from another field) are left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.extensions import db

# Never shown: keys, versions, secrets, and values derived from a field that is shown (the range text
# yields range_lower/upper/unit; the uncertainty text its kind/value/unit).
HIDDEN = frozenset({
    "id", "version", "created_at", "updated_at", "password_hash", "token_hash", "session_epoch", "id_number_hash",
    "catalog_version_id", "range_lower", "range_upper", "range_unit", "uncertainty_kind", "uncertainty_value",
    "uncertainty_unit", "coverage_factor", "last_login_at",
    "certificate_key", "public_id",  # derived search key; the public page's random address
    "has_status_periods",  # a flag for the coverage index; the standard's page lists the periods themselves
})

# Labels of the columns several records share; a page's own labels take precedence.
COMMON_LABELS: dict[str, Any] = {
    "name": _l("名称"), "code": _l("代码"), "institution_id": _l("所属机构"), "is_demo": _l("演示数据"),
    "withdrawn_at": _l("撤回时间"), "withdrawn_reason": _l("撤回理由"), "is_carbon": _l("双碳计量"),
    "region_code": _l("所属地区"), "serves_region_code": _l("服务区域"), "discipline_code": _l("专业"),
    "status": _l("状态"), "status_since": _l("状态生效日期"), "email": _l("邮箱"), "role": _l("角色"),
    "display_name": _l("姓名或称呼"), "active": _l("账号启用"), "password": _l("密码"), "notes": _l("备注"),
    "catalog_line_ids": _l("服务的强检目录条目"), "regulation_ids": _l("依据的检定规程"), "filename": _l("文件"),
    "certified_since": _l("连续持证起始日期"),
}

ACTIONS = {"create": _l("已创建"), "update": _l("已修改"), "withdraw": _l("已撤回"), "import": _l("已导入"),
           "password_change": _l("密码已修改"), "password_reset": _l("密码已重置"), "delete": _l("已删除"),
           "change": _l("经审批记录变更"), "replacement": _l("经审批记录更换")}
IMPORT_ACTIONS = {"create": _l("由 %(date)s 的导入创建"), "update": _l("由 %(date)s 的导入修改"),
                  "withdraw": _l("由 %(date)s 的导入撤回")}
IMPORT_NOTE_PREFIX = "导入 import:"
SYSTEM_ACTOR = "system"


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class HistoryRow:
    occurred_at: datetime
    actor: str
    action: str
    detail: str | None
    show_before: bool
    changes: list[Change] = field(default_factory=list)


def entity_labels(entity_type: str) -> dict[str, Any]:
    """The labels of one kind of record's columns, from its form where it has one."""
    from registry.institutions.forms import InstitutionForm
    from registry.standards.forms import StandardForm

    from registry.catalog.forms import FIELD_LABELS as CATALOG_LABELS
    from registry.personnel.forms import FIELD_LABELS as PERSON_LABELS
    from registry.regulations.forms import FIELD_LABELS as REGULATION_LABELS

    forms = {"measurement_standards": StandardForm, "institutions": InstitutionForm}
    tables = {"regulations": REGULATION_LABELS, "persons": PERSON_LABELS, "catalog_versions": CATALOG_LABELS,
              "catalog_lines": CATALOG_LABELS}
    labels = dict(COMMON_LABELS)
    if entity_type in forms:
        labels.update(form_labels(forms[entity_type]))
    labels.update(tables.get(entity_type, {}))
    if entity_type == "measurement_standards":
        labels["institution_id"] = labels.pop("institution_id", _l("建标单位"))
    return labels


def form_labels(form_class: type) -> dict[str, Any]:
    """``{field name: label}`` of a WTForms class, without instantiating it (no request needed)."""
    out = {}
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if getattr(unbound, "_formfield", False):
            text = unbound.kwargs.get("label") or (unbound.args[0] if unbound.args else None)
            if text:
                out[name] = text
    return out


def entity_values(entity_type: str) -> dict[str, Mapping[str, Any]]:
    """Coded values in words, per column."""
    from registry.auth.forms import ROLE_LABELS
    from registry.institutions.models import INSTITUTION_KIND_LABELS
    from registry.standards.forms import BUILD_KIND_LABELS
    from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS

    if entity_type == "measurement_standards":
        return {"category": CATEGORY_LABELS, "status": STATUS_LABELS, "build_kind": BUILD_KIND_LABELS}
    if entity_type == "institutions":
        return {"kind": INSTITUTION_KIND_LABELS}
    if entity_type == "users":
        return {"role": ROLE_LABELS}
    return {}


def history_rows(events: Iterable[Any], fields: Mapping[str, Any] | None = None,
                 values: Mapping[str, Mapping] | None = None) -> list[HistoryRow]:
    """The rows of a history table for ``events`` (:class:`~registry.audit.models.AuditEvent`, oldest first)."""
    events = list(events)
    if not events:
        return []
    entity_type = getattr(events[0], "entity_type", "")  # pages may pass a filtered copy of the events
    labels = {**entity_labels(entity_type), **(fields or {})}
    coded = {**entity_values(entity_type), **(values or {})}
    names = _referenced_names(events)
    rows = []
    for event in events:
        changes = []
        for name, (before, after) in event.changes.items():
            if name in HIDDEN or name.endswith("_hash"):
                continue
            if event.action == "create" and after in (None, "", [], False):
                continue  # a new record's empty fields say nothing
            label = labels.get(name)
            changes.append(Change(str(label) if label else _readable_name(name),
                                  _value(name, before, coded, names), _value(name, after, coded, names)))
        rows.append(HistoryRow(occurred_at=event.occurred_at, actor=_actor(event), action=_action(event),
                               detail=_detail(event), show_before=event.action not in ("create", "import"),
                               changes=changes))
    return rows


def _actor(event: Any) -> str:
    label = event.actor_label
    return _("系统") if not label or label == SYSTEM_ACTOR else label


def _action(event: Any) -> str:
    note = getattr(event, "note", None) or ""
    if note.startswith(IMPORT_NOTE_PREFIX) and event.action in IMPORT_ACTIONS:
        return str(IMPORT_ACTIONS[event.action]) % {"date": _day(event.occurred_at)}
    action = ACTIONS.get(event.action)
    return str(action) if action else event.action.replace("_", " ")


def _detail(event: Any) -> str | None:
    note = getattr(event, "note", None) or ""
    if note.startswith(IMPORT_NOTE_PREFIX):
        filename = note[len(IMPORT_NOTE_PREFIX):].strip()
        return filename if filename and filename != "workbook" else None
    from registry.i18n import one_language

    return one_language(note) or None


def _day(moment: datetime) -> str:
    from registry.i18n import _date

    return _date(moment)


def _readable_name(name: str) -> str:
    """A column no page labels: shown as words, never as ``snake_case``."""
    return name.replace("_ids", "").replace("_id", "").replace("_", " ")


def _referenced_names(events: list[Any]) -> dict[str, dict]:
    """Names for the ids and codes the events mention, a query per kind of record."""
    from registry.catalog.models import CatalogLine
    from registry.institutions.models import Institution
    from registry.reference.models import Discipline, Region
    from registry.regulations.models import Regulation

    wanted: dict[str, set] = {"institution": set(), "line": set(), "regulation": set(), "region": set(),
                              "discipline": set()}
    columns = {"institution_id": "institution", "catalog_line_ids": "line", "regulation_ids": "regulation",
               "region_code": "region", "serves_region_code": "region", "discipline_code": "discipline"}
    for event in events:
        for name, pair in event.changes.items():
            kind = columns.get(name)
            if kind is None:
                continue
            for value in pair:
                for item in value if isinstance(value, list) else [value]:
                    if item is not None:
                        wanted[kind].add(item)
    names: dict[str, dict] = {kind: {} for kind in wanted}
    from registry.i18n import is_english

    english = is_english()
    if wanted["institution"]:
        names["institution"] = dict(db.session.execute(
            sa.select(Institution.id, Institution.name).where(Institution.id.in_(wanted["institution"]))).all())
    if wanted["line"]:
        names["line"] = {id_: f"{code} {name}" + (f"·{sub}" if sub else "") for id_, code, name, sub in
                         db.session.execute(sa.select(CatalogLine.id, CatalogLine.code, CatalogLine.name,
                                                      CatalogLine.sub_name)
                                            .where(CatalogLine.id.in_(wanted["line"])))}
    if wanted["regulation"]:
        names["regulation"] = dict(db.session.execute(
            sa.select(Regulation.id, Regulation.code).where(Regulation.id.in_(wanted["regulation"]))).all())
    if wanted["region"]:
        names["region"] = dict(db.session.execute(
            sa.select(Region.code, Region.name).where(Region.code.in_(wanted["region"]))).all())
    if wanted["discipline"]:
        names["discipline"] = {code: (name_en if english and name_en else name) for code, name, name_en in
                               db.session.execute(sa.select(Discipline.code, Discipline.name, Discipline.name_en)
                                                  .where(Discipline.code.in_(wanted["discipline"])))}
    return {column: names[kind] for column, kind in columns.items()}


def _value(name: str, value: Any, coded: Mapping[str, Mapping], names: Mapping[str, Mapping]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    if name in names:
        known = names[name]
        items = value if isinstance(value, list) else [value]
        return "、".join(str(known.get(item, item)) for item in items)
    if isinstance(value, list):
        known = coded.get(name, {})
        return "、".join(_pick(known[item]) if _hashable(item) and item in known else str(item) for item in value)
    if name in coded and _hashable(value) and value in coded[name]:
        return _pick(coded[name][value])
    if isinstance(value, str) and name.endswith(("_at",)):
        return _moment(value)
    if isinstance(value, str) and name.endswith(("_on", "_until", "_since", "_date")):
        return _a_day(value)
    return str(value)


def _hashable(value: Any) -> bool:
    return not isinstance(value, (list, dict, set))


def _pick(label: Any) -> str:
    if isinstance(label, tuple):
        from registry.i18n import is_english

        return label[1] if is_english() else label[0]
    return str(label)


def _a_day(text: str) -> str:
    from registry.i18n import _date

    try:
        return _date(date.fromisoformat(text[:10]))
    except ValueError:
        return text


def _moment(text: str) -> str:
    from registry.i18n import _datetime

    try:
        return _datetime(datetime.fromisoformat(text), "short")
    except ValueError:
        return text
