"""The inbox (every signed-in user), reminder settings, and the sent-log (admins)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from registry.extensions import db
from registry.page_lists import options
from registry.reminders import services, texts
from registry.reminders.models import DELIVERY_STATES, REMINDER_KINDS, Reminder
from registry.web import actor, commit_or_rollback, login_required, paginate

bp = Blueprint("reminders", __name__, template_folder="templates")

KIND_LABELS = {
    "certificate_apply_by": _l("计量标准复查申请提醒（申请期限前 12、9、6、3 个月及逾期）"),
    "registration_lapsing": _l("注册计量师注册到期提醒（到期前 6 个月）"),
    "application_returned": _l("申请被退回补正"),
    "application_decided": _l("申请已作出决定"),
    "rectification_due": _l("整改期限将至（期限前 7 天）"),
    "application_overdue": _l("申请超过办理期限（监管人员）"),
}
STATUS_LABELS = {"pending": _l("待发送"), "sending": _l("发送中"), "sent": _l("已发送"), "failed": _l("发送失败")}
CHANNEL_LABELS = {"inbox": _l("站内"), "email": _l("电子邮件")}


class SettingsForm(FlaskForm):
    kinds = SelectMultipleField(_l("接收的提醒"), choices=options((k, KIND_LABELS[k]) for k in REMINDER_KINDS),
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    email = BooleanField(_l("同时发送电子邮件"))
    language = RadioField(_l("电子邮件语言"), choices=options([("zh", "中文"), ("en", "English")]),
                          default="zh")


@bp.app_context_processor
def _unread():
    """``unread_reminders()`` for the header: one count, only when a signed-in page asks."""
    def unread_reminders() -> int:
        return services.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_reminders": unread_reminders}


def _message(reminder: Reminder) -> dict:
    return {"row": reminder, "subject": texts.subject(reminder.kind, reminder.threshold, reminder.params or {}),
            "link": texts.link(reminder.kind, reminder.params or {})}


@bp.get("/inbox")
@login_required
def inbox():
    page = paginate(services.inbox_query(actor()))
    return render_template("reminders/inbox.html", page=page, messages=[_message(r) for r in page.items],
                           unread=services.unread_count(actor()))


@bp.post("/inbox/<id:reminder_id>/open")
@login_required
def open_message(reminder_id: int):
    """Mark one message read and go to what it is about (another user's message is 404)."""
    reminder = db.session.get(Reminder, reminder_id)
    if reminder is None or reminder.user_id != current_user.id or reminder.channel != "inbox":
        abort(404)
    commit_or_rollback(lambda: services.mark_read(actor(), reminder_id))
    target = texts.link(reminder.kind, reminder.params or {}) or url_for("reminders.inbox")
    return redirect(target if not urlsplit(target).netloc else url_for("reminders.inbox"))


@bp.post("/inbox/read")
@login_required
def read_all():
    changed = commit_or_rollback(lambda: services.mark_read(actor()))
    flash(_("已将 %(count)s 条提醒标为已读。", count=changed), "success")
    return redirect(url_for("reminders.inbox"))


@bp.route("/inbox/settings", methods=["GET", "POST"])
@login_required
def settings():
    current = services.settings(actor())
    form = SettingsForm()
    if request.method == "GET":
        form.kinds.data = [k for k in REMINDER_KINDS if k not in (current.muted_kinds or [])]
        form.email.data = current.email
        form.language.data = current.language
    elif form.validate_on_submit():
        commit_or_rollback(lambda: services.save_settings(actor(), kinds=form.kinds.data or [],
                                                          email=form.email.data, language=form.language.data))
        flash(_("提醒设置已保存。"), "success")
        return redirect(url_for("reminders.settings"))
    status = 422 if form.errors else 200
    return render_template("reminders/settings.html", form=form), status


@bp.get("/admin/reminders")
@login_required
def log():
    """Every reminder recorded, failures first (admins only; others are told the page is not theirs)."""
    if current_user.role != "admin":
        abort(404)
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    status = status if status in DELIVERY_STATES else None
    channel = channel if channel in CHANNEL_LABELS else None
    page = paginate(services.log_query(actor(), status=status, channel=channel))
    return render_template("reminders/log.html", page=page, failed=services.failed_count(), status=status,
                           channel=channel, statuses=STATUS_LABELS, channels=CHANNEL_LABELS, kinds=KIND_LABELS)
