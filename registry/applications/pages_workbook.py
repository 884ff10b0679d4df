"""The applications list as one Excel sheet, in the page's language (what the list's Export button gives)."""
from __future__ import annotations

from datetime import date, datetime
from typing import IO, Any, Iterable

from openpyxl import Workbook

from importers.writing import header_cell, safe_row
from registry.applications.models import DECISION_LABELS, KIND_LABELS, STATE_LABELS
from registry.web.labels import label

HEADERS = (("编号", "No."), ("申请类型", "Kind"), ("状态", "State"), ("决定", "Decision"), ("申请单位", "Applicant"),
           ("地区", "Region"), ("计量标准", "Standard"), ("证书编号", "Certificate number"),
           ("提交时间", "Submitted"), ("受理时间", "Accepted"), ("决定时间", "Decided"),
           ("已等待天数", "Days waited"), ("当前步骤期限", "Due by"), ("超期", "Overdue"),
           ("逾期申请", "Applied late"), ("整改期限", "Rectification deadline"))


def _day(value: datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def write_applications(out: IO[bytes], applications: Iterable[Any], *, ages: dict[int, Any]) -> None:
    """One row per application; dates as dates, labels in the page's language."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(label(("申请", "Applications")))
    ws.append([header_cell(ws, label(pair)) for pair in HEADERS])
    yes, no = label(("是", "Yes")), label(("否", "No"))
    for a in applications:
        age = ages.get(a.id)
        region = a.institution.region
        ws.append(safe_row(ws, [
            a.id, label(KIND_LABELS[a.kind]), label(STATE_LABELS[a.state]),
            label(DECISION_LABELS[a.decision]) if a.decision else None, a.institution.name,
            label((region.name, region.name_en or region.name)) if region else None,
            a.standard.name if a.standard else (a.title or (a.proposal or {}).get("name")),
            a.standard.certificate_no if a.standard else None,
            _day(a.submitted_at), _day(a.accepted_at), _day(a.decided_at),
            getattr(age, "days", None), getattr(age, "deadline", None),
            (yes if age.overdue else no) if age is not None else None,
            yes if a.late else no, a.rectification_deadline,
        ]))
    wb.save(out)
