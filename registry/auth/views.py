"""Signing in and out of the pages (the ``accounts`` pages; ``auth`` is the API's blueprint)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.auth.forms import LoginForm
from registry.auth.services import InvalidCredentials, authenticate, end_sessions
from registry.extensions import db
from registry.security import login_limits, login_session, logout_session

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
    from registry.web import has_endpoint

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
