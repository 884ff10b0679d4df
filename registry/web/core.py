"""What every page shares: who is signed in, paging in SQL, errors shown on forms.

Views stay thin: they read the request, call the feature's query or service
(the same ones the API calls) and render.  Nothing here decides a rule.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.api.schemas import MAX_PAGE
from registry.auth.policy import is_staff
from registry.errors import DomainError
from registry.extensions import db
from registry.i18n import is_english, one_language

DEFAULT_PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)


def actor():
    """The signed-in user (pages that call this are behind :func:`login_required`)."""
    return current_user._get_current_object()


def login_required(view: Callable) -> Callable:
    """Send anonymous visitors to the login page, then back here."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            flash(_("请先登录。"), "info")
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def staff_required(view: Callable) -> Callable:
    """Regulators and admins only; an institution user is told it is not theirs (404, as the API does)."""

    @login_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_staff(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


@dataclass
class Page:
    """One page of a list, counted and fetched in SQL."""

    items: list
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def url(self, page: int) -> str:
        """This list's URL with its filters kept, at ``page``."""
        return url_with(page=page)


def page_args() -> tuple[int, int]:
    """``page`` (from 1, at most the API's ``MAX_PAGE``) and ``page_size`` (one of :data:`PAGE_SIZES`).

    Out-of-range values are clamped, never an error: a page past the end shows the last one.
    """
    page = request.args.get("page", type=int) or 1
    size = request.args.get("page_size", type=int) or DEFAULT_PAGE_SIZE
    return min(max(page, 1), MAX_PAGE), size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def paginate(stmt: sa.Select, *, scalars: bool = True) -> Page:
    """Count ``stmt`` and fetch the requested page of it; a page past the end shows the last one."""
    page, size = page_args()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(page, max(1, math.ceil(total / size)))
    rows = db.session.execute(stmt.limit(size).offset((page - 1) * size))
    return Page(list(rows.scalars() if scalars else rows), page, size, total)


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (``None`` drops one)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    args += [(k, v) for k, v in changes.items() if v is not None]
    return request.path + (f"?{urlencode(args)}" if args else "")


def filter_args(*names: str, **converters: Callable) -> dict[str, Any]:
    """The non-empty filters of a list page, converted (a bad value is ignored, not a 500)."""
    out: dict[str, Any] = {}
    for name in (*names, *converters):
        raw = request.args.get(name, "").strip()
        if not raw:
            continue
        convert = converters.get(name)
        try:
            out[name] = convert(raw) if convert else raw
        except (TypeError, ValueError):
            continue
    return out


PAGING_ARGS = ("page", "page_size")


def list_args(schema: Any, **fixed: Any) -> tuple[dict[str, Any], list[str]]:
    """A list page's filters read with the API's query schema, so a filter means the same at every door.

    Invalid values are dropped and named (for a message above the list, never
    a 500); ``fixed`` arguments (set by the page, not the URL) always apply.
    Returns ``(args, dropped)``.
    """
    import marshmallow as ma

    schema = schema() if isinstance(schema, type) else schema
    raw = {k: v.strip() for k, v in request.args.items() if k not in PAGING_ARGS and v.strip() and k not in fixed}
    dropped: list[str] = []
    for _attempt in range(3):
        try:
            return schema.load({**raw, **fixed}), dropped
        except ma.ValidationError as error:
            messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
            if "_schema" in messages:  # the whole query string was refused: start from no filter
                dropped.extend(raw)
                raw = {}
            else:
                dropped.extend(name for name in messages if name in raw)
                raw = {k: v for k, v in raw.items() if k not in messages}
    return schema.load(dict(fixed)), dropped


def export_args() -> dict[str, str]:
    """The list's own query string without paging: what its Export button passes on."""
    return {k: v for k, v in request.args.items() if k not in PAGING_ARGS and v != ""}


def apply_domain_errors(form, error: DomainError) -> None:
    """Show a service's errors next to the form's fields; the rest above the form.

    Each message is shown in the page's language only, with the fields it
    names (``issued_on``) called by the form's labels (发证日期).
    """
    unplaced = []
    for field_name, messages in (error.errors or {}).items():
        field = getattr(form, field_name, None)
        shown = [form_message(form, message) for message in messages]
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + shown
        else:
            label = form_label(form, field_name)
            unplaced.extend(f"{label}: {message}" if label else message for message in shown)
    if not error.errors:
        unplaced.append(form_message(form, error.message))
    form.form_errors = list(getattr(form, "form_errors", []) or []) + unplaced


_FIELD_NAME = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")


_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


def form_label(form, name: str) -> str | None:
    """The label a form shows for field ``name`` (``None`` when the form has no such field)."""
    field = getattr(form, name, None)
    label = getattr(field, "label", None)
    return str(label.text) if label is not None else None


def form_message(form, message: str) -> str:
    """A service message as a form shows it: one language, field names replaced by the form's labels."""
    text = _FIELD_NAME.sub(lambda m: form_label(form, m.group(0)) or m.group(0), one_language(message))
    text = _CJK_SPACE.sub("", text)  # "不能早于 发证日期" reads "不能早于发证日期"
    if is_english():
        text = text[:1].upper() + text[1:]  # an English sentence shown alone starts with a capital
    return text


def commit_or_rollback(action: Callable[[], Any]) -> Any:
    """Run a service call and commit; on a domain error roll back and re-raise (the view shows it)."""
    try:
        result = action()
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise


def has_endpoint(name: str) -> bool:
    """Whether a page exists (the layout links only to the pages this build has)."""
    return name in current_app.view_functions


def init_app(app) -> None:
    from registry.audit.display import history_rows

    app.jinja_env.globals.update(url_with=url_with, is_staff=is_staff, page_sizes=PAGE_SIZES,
                                 has_endpoint=has_endpoint, history_rows=history_rows)
    app.context_processor(_layout_context)


def _layout_context() -> dict[str, Any]:
    from registry.main.services import has_demo_data

    return {"has_demo_data": has_demo_data, "lead_months": current_app.config["REEXAMINATION_LEAD_MONTHS"]}
