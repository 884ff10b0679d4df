"""List pages of the reference registries: the API's query arguments read from a page's URL.

A list page reads its filters with the same schema as the API list
(``RegulationQueryArgs``, ``PersonQueryArgs``, ...) and hands them to the same
query function, so a filter means the same thing at both doors and in the
Excel export, which receives the same arguments.
"""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import HiddenField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from registry.errors import DomainError, StaleEdit
from registry.web.core import apply_domain_errors, commit_or_rollback, export_args

def try_url_for(endpoint: str, **values: Any) -> str | None:
    """A link to another feature's page when this build has it (and it takes these arguments)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as a select field's choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def blank(value):
    """A select filter: a record's empty value (None) is the form's empty choice."""
    return "" if value is None else value


class VersionedForm(FlaskForm):
    """A form that edits a record: ``version`` is the one the user read, sent as ``expected_version``."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        try:
            return int(self.version.data) if self.version.data not in (None, "") else None
        except ValueError:
            return -1  # a tampered version never matches: the edit is refused as stale


class WithdrawForm(VersionedForm):
    reason = TextAreaField(_l("撤回原因"), validators=[InputRequired(message=_l("请说明撤回原因")),
                                                     Length(max=500)])


def save(form, action):
    """Run a service call and commit; on a domain error show it on the form and return None.

    A stale edit is told in one sentence; "not found" and "forbidden" go on to the
    error page, as at the API.
    """
    try:
        return commit_or_rollback(action)
    except StaleEdit:
        form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
    except DomainError as error:
        if error.status in (403, 404):
            raise
        apply_domain_errors(form, error)
    return None


def form_status(form) -> int:
    """422 when the form came back with errors (its own or the service's), else 200."""
    return 422 if form.errors or getattr(form, "form_errors", None) else 200


def withdraw_page(obj, *, template: str, done: str, detail: str, **context):
    """The withdraw page of a reference record: ask for a reason, withdraw through the service, go back.

    ``done`` is the message flashed afterwards, ``detail`` the record's page;
    ``context`` goes to ``template`` with the form.
    """
    from flask import flash, redirect, render_template

    from registry.records.services import withdraw
    from registry.web.core import actor

    form = WithdrawForm(obj=obj)
    if form.validate_on_submit():
        if save(form, lambda: withdraw(obj, form.reason.data, actor=actor(),
                                       expected_version=form.expected_version())) is not None:
            flash(done, "success")
            return redirect(detail)
    return render_template(template, form=form, **context), form_status(form)


def register(bp) -> None:
    """Call right after creating a page blueprint: ``<id:...>`` URLs and the shared template helpers."""
    from registry.api.schemas import IdConverter

    bp.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))
    bp.add_app_template_global(try_url_for, "try_url_for")
    bp.add_app_template_global(export_args, "export_args")
