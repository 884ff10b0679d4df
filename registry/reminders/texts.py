"""A reminder's words, in one language: the reader's in the inbox, the recipient's choice by e-mail."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import force_locale, format_date, gettext as _

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def link(kind: str, params: dict[str, Any]) -> str | None:
    """The page the reminder is about (a path on this registry)."""
    if kind == "certificate_apply_by" and params.get("standard_id"):
        return f"/standards/{params['standard_id']}"
    if kind == "registration_lapsing" and params.get("person_id"):
        return f"/personnel/{params['person_id']}"
    if kind in APPLICATION_KINDS and params.get("application_id"):
        return f"/applications/{params['application_id']}"
    return None


APPLICATION_KINDS = ("application_returned", "application_decided", "rectification_due", "application_overdue")


def _application_kind(params: dict[str, Any]) -> str:
    from registry.applications.models import KIND_LABELS
    from registry.i18n import is_english

    pair = KIND_LABELS.get(params.get("kind"), (params.get("kind", ""), params.get("kind", "")))
    return pair[1] if is_english() else pair[0]


def _decision(params: dict[str, Any]) -> str:
    from registry.applications.models import DECISION_LABELS
    from registry.i18n import is_english

    pair = DECISION_LABELS.get(params.get("decision"), ("", ""))
    return pair[1] if is_english() else pair[0]


def _day(value: str | None) -> str:
    return format_date(date.fromisoformat(value), "long") if value else "—"


def _threshold(threshold: str) -> str:
    if threshold == "passed":
        return _("申请期限已过")
    return _("距申请期限 %(months)s 个月", months=threshold.rstrip("m"))


def subject(kind: str, threshold: str, params: dict[str, Any]) -> str:
    """One line, in the current language."""
    if kind == "certificate_apply_by":
        if threshold == "passed":
            return _("逾期未申请复查：%(number)s 的复查申请期限 %(day)s 已过",
                     number=params.get("certificate_no", ""), day=_day(params.get("apply_by")))
        return _("请在 %(day)s 前申请复查：%(number)s（%(when)s）",
                 day=_day(params.get("apply_by")), number=params.get("certificate_no", ""),
                 when=_threshold(threshold))
    if kind == "registration_lapsing":
        return _("注册计量师 %(name)s 的注册将于 %(day)s 到期", name=params.get("name", ""),
                 day=_day(params.get("valid_until")))
    if kind == "application_returned":
        return _("申请第 %(id)s 号（%(kind)s）已退回补正", id=params.get("application_id", ""),
                 kind=_application_kind(params))
    if kind == "application_decided":
        return _("申请第 %(id)s 号（%(kind)s）已作出决定：%(decision)s", id=params.get("application_id", ""),
                 kind=_application_kind(params), decision=_decision(params))
    if kind == "rectification_due":
        return _("申请第 %(id)s 号的整改期限为 %(day)s", id=params.get("application_id", ""),
                 day=_day(params.get("deadline")))
    if kind == "application_overdue":
        return _("申请第 %(id)s 号（%(institution)s）已超过办理期限 %(day)s", id=params.get("application_id", ""),
                 institution=params.get("institution", ""), day=_day(params.get("deadline")))
    return kind


def body(kind: str, threshold: str, params: dict[str, Any], *, base_url: str = "") -> str:
    """A few lines of plain text, in the current language."""
    lines = [subject(kind, threshold, params), ""]
    if kind == "certificate_apply_by":
        lines += [
            _("计量标准：%(name)s", name=params.get("name", "")),
            _("持有机构：%(institution)s", institution=params.get("institution", "")),
            _("证书有效期至：%(day)s", day=_day(params.get("valid_until"))),
            _("复查申请期限：%(day)s", day=_day(params.get("apply_by"))),
        ]
    elif kind == "registration_lapsing":
        lines += [
            _("注册证号：%(number)s", number=params.get("registration_no", "")),
            _("所在机构：%(institution)s", institution=params.get("institution", "")),
            _("注册有效期至：%(day)s", day=_day(params.get("valid_until"))),
        ]
    elif kind == "application_returned":
        lines += [_("退回理由：%(reason)s", reason=params.get("reason") or "—")]
    elif kind == "application_decided" and params.get("reasons"):
        lines += [_("说明：%(reasons)s", reasons=params.get("reasons"))]
    path = link(kind, params)
    if path:
        lines += ["", base_url.rstrip("/") + path]
    lines += ["", _("此提醒由计量标准注册管理系统发出；可在“提醒设置”中选择接收的提醒。")]
    return "\n".join(lines)


def render(kind: str, threshold: str, params: dict[str, Any], language: str, *, base_url: str = "") -> tuple[str, str]:
    """``(subject, body)`` in ``language`` ("zh" or "en")."""
    with force_locale(LOCALES.get(language, "zh_Hans_CN")):
        return subject(kind, threshold, params), body(kind, threshold, params, base_url=base_url)
