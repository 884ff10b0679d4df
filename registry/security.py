"""Browser and request security: request ids, headers, CSRF, login throttling, sessions.

- Every request gets ``g.request_id`` (a fresh random id, echoed in
  ``X-Request-ID``); audit rows and error reports carry it.
- Every response gets a Content-Security-Policy without inline scripts or
  styles, ``nosniff``, ``Referrer-Policy: same-origin``, no framing, and HSTS
  when ``HSTS_SECONDS`` is set (production only).
- CSRF: every unsafe request to a page needs a Flask-WTF token; an API
  request needs one only when it rides on the session cookie.  A request with
  ``Authorization: Bearer`` carries no ambient credential and is exempt.
- :func:`login_limits` throttles a login door per account and per address;
  the API token endpoint and the page login share the counters.
"""
from __future__ import annotations

import uuid

from flask import Flask, current_app, g, request, session
from flask_login import login_user, logout_user

from registry.extensions import csrf

# Flask-Limiter (``registry.extensions.limiter``) is imported by the apps that serve pages and the API.

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def init_app(app: Flask, *, limits: bool = True) -> None:
    """Security for ``app``; ``limits=False`` (an app that serves no page: ``create_app(web=False)``)
    leaves out the rate limiter, which throttles only the login doors and the public search."""
    from config import per_process_limits_problem

    problem = per_process_limits_problem(app.config["REGISTRY_ENV"], app.config["RATELIMIT_STORAGE_URI"],
                                         app.config["SERVER_PROCESSES"])
    if problem:
        raise RuntimeError(problem)
    csrf.init_app(app)
    if limits:
        from registry.extensions import limiter

        limiter.init_app(app)
    app.before_request(_assign_request_id)
    app.before_request(_check_csrf)
    app.after_request(_security_headers)


def _assign_request_id() -> None:
    g.request_id = uuid.uuid4().hex


def bearer_token() -> str | None:
    """The raw token of an ``Authorization: Bearer`` header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _check_csrf() -> None:
    """Require a CSRF token on unsafe requests that a browser could forge.

    Flask-WTF's automatic check is off (``WTF_CSRF_CHECK_DEFAULT``) so this
    hook decides: pages always; the API only when the session cookie would
    authenticate the request.
    """
    if request.method not in UNSAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if request.path.startswith("/api/"):
        if bearer_token() is not None or "_user_id" not in session:
            return
    csrf.protect()


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if g.get("request_id"):
        headers["X-Request-ID"] = g.request_id
    hsts = current_app.config.get("HSTS_SECONDS") or 0
    if hsts:
        headers.setdefault("Strict-Transport-Security", f"max-age={int(hsts)}; includeSubDomains")
    return response


# --- Login throttling ---------------------------------------------------------


def _login_account() -> str:
    """The account a login attempt names (JSON or form ``email``), else the address."""
    if request.is_json:
        data = request.get_json(silent=True)
        email = data.get("email") if isinstance(data, dict) else None
    else:
        email = request.form.get("email")
    if isinstance(email, str) and email.strip():
        return "account:" + email.strip().lower()
    from flask_limiter.util import get_remote_address

    return "address:" + (get_remote_address() or "")


def login_limits(view):
    """Throttle a login view: ``LOGIN_LIMIT_PER_ACCOUNT`` and ``LOGIN_LIMIT_PER_ADDRESS``.

    Usage on a page: ``@bp.post("/login") @login_limits def login(): ...``.
    Every attempt counts, successful or not; the 429 answer is a problem
    (API) or an error page.  Counters are shared by every door using this.
    """
    from flask_limiter.util import get_remote_address

    from registry.extensions import limiter

    view = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="login-address",
                                key_func=get_remote_address)(view)
    view = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], scope="login-account",
                                key_func=_login_account)(view)
    return view


# --- Sessions -------------------------------------------------------------------


def login_session(user, *, remember: bool = False) -> None:
    """Start a fresh session for ``user``: nothing from before the login survives."""
    session.clear()
    login_user(user, remember=remember)


def logout_session() -> None:
    """End this browser's session (call ``auth.services.end_sessions`` to end all of them)."""
    logout_user()
    session.clear()
