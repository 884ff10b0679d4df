"""``registry applications``: list, show, export and take a step, through the same services as the pages and API.

Every line is in the command line's language (``registry --lang``; the records' own text as it is).  ``act``
runs one step as the named user, with that user's rights: a step that is not
theirs, or not open in the application's state, ends with one message, exit
code 1 and nothing written.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext

LIST_LIMIT = 50
# Step names as the services name them; the API's path words are accepted too.
STEP_ALIASES = {"return": "return_for_completion", "examiners": "assign_examiners", "decision": "decide",
                "rectification-response": "respond_rectification",
                "rectification-confirmation": "confirm_rectification",
                "rectification-rejection": "reject_rectification"}
STEPS = ("update_draft", "submit", "withdraw", "return_for_completion", "accept", "assign_examiners", "decide",
         "respond_rectification", "confirm_rectification", "reject_rectification", "close")


def _pick(pair: tuple[str, str] | None, fallback: str = "—") -> str:
    from registry.cli import language

    if not pair:
        return fallback
    return pair[1] if language() == "en" else pair[0]


def _fail(message: str) -> click.ClickException:
    from registry.cli import one_language

    return click.ClickException(one_language(message))


def _domain_error(error: Any) -> click.ClickException:
    """A service's refusal as one line (its field errors after it), in the command line's language."""
    from registry.cli import one_language, say

    lines = [one_language(error.message)]
    for field, messages in sorted((error.errors or {}).items()):
        texts = [one_language(m) for m in messages if isinstance(m, str) and one_language(m) != lines[0]]
        if texts:
            lines.append(f"  {field}{say('：', ': ')}{'; '.join(texts)}")
    return click.ClickException("\n".join(lines))


def _user(email: str | None):
    """The account a command acts or reads as; ``None`` (no ``--user``): the operator, who sees everything."""
    import sqlalchemy as sa

    from registry.auth.models import User
    from registry.cli import say
    from registry.extensions import db

    if email is None:
        return None
    found = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if found is None or not found.active:
        raise _fail(say(f"没有此账号或账号已停用：{email}", f"no such account, or it is disabled: {email}"))
    return found


def _filters(state: str | None, kind: str | None, institution: str | None, city: str | None) -> dict[str, Any]:
    import sqlalchemy as sa

    from registry.cli import say
    from registry.extensions import db
    from registry.institutions.models import Institution

    filters: dict[str, Any] = {}
    if state:
        filters["state"] = state
    if kind:
        filters["kind"] = kind
    if city:
        if not (city.isdigit() and len(city) == 6):
            raise click.BadParameter(say("应为六位地区代码，如 360100", "a six-digit region code, e.g. 360100"),
                                     param_hint="--city")
        filters["city"] = city
    if institution:
        found = db.session.scalar(sa.select(Institution.id).where(Institution.credit_code == institution))
        if found is None and institution.isdigit():
            found = db.session.get(Institution, int(institution)) and int(institution)
        if not found:
            raise click.BadParameter(say(f"没有此机构：{institution}", f"no such institution: {institution}"),
                                     param_hint="--institution")
        filters["institution_id"] = found
    return filters


def _rows_statement(actor: Any, filters: dict[str, Any]):
    from sqlalchemy.orm import selectinload

    from registry.applications import services
    from registry.applications.models import Application
    from registry.institutions.models import Institution

    return services.list_query(actor, filters).options(
        selectinload(Application.institution).selectinload(Institution.region), selectinload(Application.standard))


def _list_options(command: Callable) -> Callable:
    from registry.applications.models import KINDS, STATES

    for option in reversed((
        click.option("--state", type=click.Choice(STATES), help="Only applications in this state."),
        click.option("--kind", type=click.Choice(KINDS), help="Only applications of this kind."),
        click.option("--institution", help="Only this institution's (its credit code, or its id)."),
        click.option("--city", help="Only institutions in this city (six-digit region code, e.g. 360100)."),
        click.option("--user", "email", help="Read as this account (an institution's user sees its own)."),
    )):
        command = option(command)
    return command


@click.group("applications")
def applications_group() -> None:
    """Examinations (计量标准考核申请): list, show, export, and take a step as a user."""


@applications_group.command("list")
@_list_options
@click.option("--limit", type=click.IntRange(1, 1000), default=LIST_LIMIT, show_default=True,
              help="At most this many, newest first.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Which page of --limit rows.")
@click.option("--json", "as_json", is_flag=True, help="JSON (one object: total, page, items) instead of lines.")
@with_appcontext
def list_command(state, kind, institution, city, email, limit, page, as_json) -> None:
    """Applications newest first, --limit a page; the filters are the list page's."""
    import sqlalchemy as sa

    from registry.applications import services
    from registry.applications.models import KIND_LABELS, STATE_LABELS
    from registry.cli import say
    from registry.extensions import db

    actor = _user(email)
    filters = _filters(state, kind, institution, city)
    stmt = _rows_statement(actor, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(limit).offset((page - 1) * limit)).all()
    ages = services.ages(rows, date.today())
    if as_json:
        items = [{
            "id": a.id, "kind": a.kind, "kind_label": _pick(KIND_LABELS[a.kind]), "state": a.state,
            "state_label": _pick(STATE_LABELS[a.state]), "institution": a.institution.name,
            "credit_code": a.institution.credit_code, "standard_id": a.standard_id, "title": a.title,
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "due_by": ages[a.id].deadline.isoformat() if ages[a.id] and ages[a.id].deadline else None,
            "overdue": bool(ages[a.id] and ages[a.id].overdue), "version": a.version,
        } for a in rows]
        click.echo(json.dumps({"total": total, "page": page, "limit": limit, "items": items}, ensure_ascii=False,
                              indent=2))
        return
    for a in rows:
        age = ages[a.id]
        due = ""
        if age is not None and age.deadline:
            due = say(f"，期限 {age.deadline.isoformat()}", f", due by {age.deadline.isoformat()}")
            if age.overdue:
                due += say("（超期）", " (overdue)")
        name = a.title or (a.standard.name if a.standard else (a.proposal or {}).get("name")) or ""
        click.echo(f"#{a.id}  {_pick(KIND_LABELS[a.kind])}  {_pick(STATE_LABELS[a.state])}  {a.institution.name}"
             f"  {name}{due}".rstrip())
    shown_from = (page - 1) * limit + 1 if rows else 0
    click.echo(say(f"共 {total} 件，显示第 {shown_from}–{shown_from + len(rows) - 1 if rows else 0} 件",
             f"{total} in all, showing {shown_from}–{shown_from + len(rows) - 1 if rows else 0}"))


@applications_group.command("show")
@click.argument("application_id", type=int)
@click.option("--user", "email", help="Read as this account (an institution's user sees its own).")
@with_appcontext
def show_command(application_id: int, email: str | None) -> None:
    """One application: what it asks, where it stands, its timeline and documents."""
    from registry.applications import services
    from registry.applications.models import (
        ACTION_LABELS,
        DECISION_LABELS,
        DOCUMENT_KIND_LABELS,
        EVENT_LABELS,
        KIND_LABELS,
        STATE_LABELS,
    )
    from registry.cli import say
    from registry.errors import DomainError
    from registry.extensions import db

    actor = _user(email)
    try:
        a = services.get_application(application_id, actor=actor)
    except DomainError as error:
        raise _domain_error(error) from None
    colon = say("：", ": ")
    click.echo(f"#{a.id}  {_pick(KIND_LABELS[a.kind])}  {_pick(STATE_LABELS[a.state])}"
         + say(f"（版本 {a.version}）", f"  (version {a.version})"))
    click.echo(f"{say('申请单位', 'Applicant')}{colon}{a.institution.name} ({a.institution.credit_code})")
    if a.standard is not None:
        click.echo(f"{say('计量标准', 'Standard')}{colon}{a.standard.name} ({a.standard.certificate_no})")
    if a.title:
        click.echo(f"{say('标题', 'Title')}{colon}{a.title}")
    if a.proposal:
        click.echo(f"{say('申请内容', 'Proposal')}{colon}{json.dumps(a.proposal, ensure_ascii=False, sort_keys=True)}")
    if a.decision:
        click.echo(f"{say('决定', 'Decision')}{colon}{_pick(DECISION_LABELS[a.decision])}")
    age = services.age(a, date.today())
    if age is not None and age.deadline:
        overdue = say("（超期）", " (overdue)") if age.overdue else ""
        click.echo(f"{say('当前步骤期限', 'Due by')}{colon}{age.deadline.isoformat()}{overdue}")
    steps = [step for step in ACTION_LABELS if step in services.allowed_actions(actor, a) and step in STEPS]
    if steps:
        click.echo(f"{say('可办理的步骤', 'Steps open')}{colon}{say('、', ', ').join(_pick(ACTION_LABELS[s]) for s in steps)}")
        click.echo(f"  (act: {' | '.join(steps)})")
    click.echo(say("办理记录：", "Timeline:"))
    for event in db.session.scalars(services.events_query(a)):
        comment = f" — {event.comment}" if event.comment else ""
        before = _pick(STATE_LABELS.get(event.from_state)) if event.from_state else "—"
        click.echo(f"  {event.at:%Y-%m-%d %H:%M}  {_pick(EVENT_LABELS.get(event.action), event.action)}  {before} → "
             f"{_pick(STATE_LABELS.get(event.to_state), event.to_state)}  {event.actor_label}{comment}")
    documents = db.session.scalars(services.documents_query(a)).all()
    click.echo(say("材料：", "Documents:") if documents else say("材料：无", "Documents: none"))
    for d in documents:
        click.echo(f"  #{d.id}  {_pick(DOCUMENT_KIND_LABELS.get(d.kind), d.kind)}  v{d.version_no}  {d.original_name}"
             f"  {d.size} B  {d.uploaded_at:%Y-%m-%d %H:%M}")


@applications_group.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@_list_options
@with_appcontext
def export_command(out: str, state, kind, institution, city, email) -> None:
    """Write the applications the filters match as one .xlsx sheet (the list page's Export)."""
    from flask import current_app
    from flask_babel import force_locale

    from registry.applications import services
    from registry.applications.pages_workbook import write_applications
    from registry.cli import language, say
    from registry.extensions import db

    if not out.lower().endswith(".xlsx"):
        raise click.BadParameter(say("应为 .xlsx 文件", "must be an .xlsx file"), param_hint="OUT")
    actor = _user(email)
    stmt = _rows_statement(actor, _filters(state, kind, institution, city))
    rows = db.session.scalars(stmt).all()
    with force_locale("en" if language() == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]), \
            open(out, "wb") as handle:
        write_applications(handle, rows, ages=services.ages(rows, date.today()))
    click.echo(say(f"已写入：{out}（{len(rows)} 件申请）", f"written: {out} ({len(rows)} applications)"))


@applications_group.command("act")
@click.argument("application_id", type=int)
@click.argument("action")
@click.option("--user", "email", required=True, help="The account taking the step; its rights apply.")
@click.option("--comment", help="The step's comment (the reason of a return or a rejection; a rectification's "
                                "response).")
@click.option("--values", "values_json", help="The step's data as JSON, as the API takes it: decide "
                                              '{"outcome": ..., "values": {...}, "rectification_deadline": ...}; '
                                              'assign_examiners {"examiner_ids": [..]}; update_draft '
                                              '{"title": .., "proposal": {..}}.')
@click.option("--expected-version", type=int, help="Refuse the step if the application changed since this version.")
@with_appcontext
def act_command(application_id: int, action: str, email: str, comment: str | None, values_json: str | None,
                expected_version: int | None) -> None:
    """Take one step (submit, accept, decide, ...) on an application as USER: exit 1 and nothing written if refused."""
    from registry.applications import services
    from registry.applications.models import ACTION_LABELS, STATE_LABELS
    from registry.cli import say
    from registry.errors import DomainError
    from registry.extensions import db

    step = STEP_ALIASES.get(action, action.replace("-", "_"))
    if step not in STEPS:
        raise click.BadParameter(say(f"未知步骤 {action}；可用：{', '.join(STEPS)}",
                                     f"unknown step {action}; one of: {', '.join(STEPS)}"), param_hint="ACTION")
    try:
        data = json.loads(values_json) if values_json else {}
    except ValueError:
        raise click.BadParameter(say("不是有效的 JSON", "not valid JSON"), param_hint="--values") from None
    if not isinstance(data, dict):
        raise click.BadParameter(say("应为 JSON 对象", "must be a JSON object"), param_hint="--values")
    actor = _user(email)
    try:
        application = services.get_application(application_id, actor=actor)
        _take(step, application, data, actor=actor, comment=comment, version=expected_version)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise _domain_error(error) from None
    except Exception:
        db.session.rollback()
        raise
    done = _pick(ACTION_LABELS[step])
    click.echo(say(f"#{application.id}：已{done}，当前状态：{_pick(STATE_LABELS[application.state])}（版本 "
             f"{application.version}）",
             f"#{application.id}: {done} done; now {_pick(STATE_LABELS[application.state])} (version "
             f"{application.version})"))


def _take(step: str, application: Any, data: dict[str, Any], *, actor: Any, comment: str | None,
          version: int | None) -> None:
    """Call the step's service as the API does (``registry.applications.api``), the comment from --comment."""
    from registry.applications import services
    from registry.errors import ValidationError

    def only(*names: str) -> None:
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValidationError(f"此步骤不接受这些内容：{', '.join(unknown)} / this step takes no {', '.join(unknown)}",
                                  field="values")

    if step == "update_draft":
        only("title", "proposal")
        services.update_draft(application, data, actor=actor, expected_version=version)
    elif step == "assign_examiners":
        only("examiner_ids")
        services.assign_examiners(application, data.get("examiner_ids"), actor=actor, comment=comment,
                                  expected_version=version)
    elif step == "decide":
        only("outcome", "values", "rectification_deadline")
        services.decide(application, data.get("outcome"), actor=actor, comment=comment, values=data.get("values"),
                        rectification_deadline=data.get("rectification_deadline"), expected_version=version)
    elif step == "respond_rectification":
        only()
        services.respond_rectification(application, comment, actor=actor, expected_version=version)
    else:
        only()
        getattr(services, step)(application, actor=actor, comment=comment, expected_version=version)
