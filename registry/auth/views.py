"""Account pages (the ``accounts`` blueprint; ``auth`` is the API's).

Signing in and out, changing one's own password, and the admins' account
pages.  Each page calls the same ``auth.services`` functions as
``auth.api``, so the password and role rules hold at every door.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from registry.audit.models import AuditEvent
from registry.audit.queries import history_query
from registry.auth.forms import (
    ROLE_LABELS,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
)
from registry.auth.models import ROLES, User
from registry.auth.queries import get_user, users_query
from registry.auth.services import (
    InvalidCredentials,
    authenticate,
    change_password,
    create_user,
    end_sessions,
    reset_password,
    update_user,
)
from registry.errors import DomainError, StaleEdit
from registry.extensions import db
from registry.security import login_limits, login_session, logout_session
from registry.web.core import actor, apply_domain_errors, commit_or_rollback, filter_args, login_required, paginate

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str | None:
    """A same-site path to return to after login, never another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def home_url() -> str:
    """Where a signed-in user starts: the dashboard for staff, their institution's page otherwise."""
    from registry.auth.policy import is_staff
    from registry.web.core import has_endpoint

    endpoint = "dashboard.index" if is_staff(current_user) else "dashboard.institution_home"
    return url_for(endpoint) if has_endpoint(endpoint) else url_for("main.index")


@bp.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or home_url())
    return render_template("accounts/login.html", form=LoginForm())


@bp.post("/login")
@login_limits
def login_post():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, remote_addr=request.remote_addr)
        except InvalidCredentials:
            db.session.rollback()
            form.form_errors = [_("邮箱或密码不正确。")]
        else:
            db.session.commit()
            login_session(user)
            return redirect(_safe_next(request.args.get("next")) or home_url())
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    """End this browser's session and, as the accounts rules say, every other one of this user."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
        db.session.commit()
    logout_session()
    flash(_("已退出。"), "info")
    return redirect(url_for("main.index"))


def _stay_signed_in(user: User) -> None:
    """Start a new session in this browser after the old ones ended; the chosen language stays."""
    language = session.get("lang")
    login_session(user)
    if language:
        session["lang"] = language


def _status(*forms) -> int:
    """200 for a fresh form, 422 when one was refused."""
    return 422 if any(form.errors or getattr(form, "form_errors", None) for form in forms) else 200


# --- One's own password ---------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password: every other session and token ends, this browser stays signed in."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = actor()
        try:
            commit_or_rollback(lambda: change_password(user, form.current_password.data, form.new_password.data,
                                                       actor=user))
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            _stay_signed_in(user)
            flash(_("密码已修改。其他浏览器中的登录和 API 令牌均已失效。"), "success")
            return redirect(home_url())
    return render_template("accounts/password.html", form=form), _status(form)


# --- Accounts (admins) ------------------------------------------------------------------


def admin_required(view):
    """Admins only; anyone else is told the page does not exist (404)."""

    @login_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != "admin":
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _yes_no(value: str) -> bool:
    if value not in ("1", "0"):
        raise ValueError(value)
    return value == "1"


USER_SORTS = ("email", "-email", "last_login_at", "-last_login_at")


@bp.get("/admin/users")
@admin_required
def users():
    """Accounts, searched by email or name and filtered by role and state, paged in SQL."""
    args = filter_args("q", "role", "sort", active=_yes_no)
    if args.get("role") not in ROLES:
        args.pop("role", None)
    if args.get("sort") not in USER_SORTS:
        args.pop("sort", None)
    stmt = users_query(args, actor=actor()).options(selectinload(User.institution))
    return render_template("accounts/users.html", results=paginate(stmt), args=args, role_labels=ROLE_LABELS)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = commit_or_rollback(lambda: create_user(
                email=form.email.data, password=form.password.data, role=form.role.data,
                credit_code=(form.institution.data or "").strip() or None,
                display_name=(form.display_name.data or "").strip() or None, actor=actor()))
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已创建账号 %(email)s。", email=user.email), "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return render_template("accounts/user_new.html", form=form), _status(form)


def _edit_form(user: User) -> UserEditForm:
    form = UserEditForm(obj=user, formdata=None)
    form.credit_code.data = user.institution.credit_code if user.institution else ""
    form.version.data = str(user.version)
    return form


def _render_user(user: User, form: UserEditForm, reset_form: PasswordResetForm):
    events = db.session.scalars(history_query(user).order_by(None).order_by(AuditEvent.id.desc()).limit(50)).all()
    return render_template("accounts/user_edit.html", user=user, form=form, reset_form=reset_form, events=events,
                           role_labels=ROLE_LABELS), _status(form, reset_form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    """Change an account's role, institution, name or active flag; refused if someone changed it meanwhile."""
    user = get_user(user_id, actor=actor())
    if request.method == "GET":
        return _render_user(user, _edit_form(user), PasswordResetForm(formdata=None))
    form = UserEditForm()
    if form.validate_on_submit():
        data = {"role": form.role.data, "credit_code": (form.credit_code.data or "").strip() or None,
                "display_name": form.display_name.data, "active": form.active.data}
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            commit_or_rollback(lambda: update_user(user, data, actor=actor(), expected_version=version))
        except StaleEdit:
            form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return _render_user(user, form, PasswordResetForm(formdata=None))


@bp.post("/admin/users/<int:user_id>/password")
@admin_required
def user_reset_password(user_id: int):
    """Set a new password for an account; its sessions and tokens end."""
    user = get_user(user_id, actor=actor())
    reset_form = PasswordResetForm()
    if reset_form.validate_on_submit():
        try:
            commit_or_rollback(lambda: reset_password(user, reset_form.password.data, actor=actor()))
        except DomainError as error:
            apply_domain_errors(reset_form, error)
        else:
            if user.id == current_user.id:
                _stay_signed_in(user)
            flash(_("已重设 %(email)s 的密码，其所有登录和 API 令牌均已失效。", email=user.email), "success")
            return redirect(url_for("accounts.user_edit", user_id=user.id))
    return _render_user(user, _edit_form(user), reset_form)
