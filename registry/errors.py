"""Domain errors, raised by services and answered at each door.

The API turns them into ``application/problem+json``; pages show them as
messages; the CLI prints them and exits non-zero.
"""
from __future__ import annotations

import logging

from flask import Flask, g, has_request_context, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES


class DomainError(Exception):
    """Base of every error a user can cause and be told about."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class ValidationError(DomainError):
    status = 422
    title = "Invalid data"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class StaleEdit(DomainError):
    status = 412
    title = "Precondition failed"


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthorized"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


# --- Answering errors: problem+json for the API, a page for the browser ------
#
# RFC 9457 problem details: ``type``, ``title``, ``status``, ``detail`` and
# ``instance``, plus ``request_id`` (also in the log and the X-Request-ID
# header) and, for invalid input, ``errors`` mapping each field to messages.

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("registry.errors")


def is_api_request() -> bool:
    return has_request_context() and (request.path == "/api" or request.path.startswith("/api/"))


def problem_type(status: int, kind: str | None = None) -> str:
    """``about:blank`` for a plain HTTP status, a registry URN for a domain error."""
    return f"urn:registry:problem:{kind}" if kind else "about:blank"


def problem(status: int, *, title: str | None = None, detail: str | None = None, kind: str | None = None,
            errors: dict | None = None, headers: dict | None = None, **extra):
    """Build the response for one problem: JSON under /api, a page elsewhere."""
    from registry.extensions import db

    db.session.rollback()
    title = title or HTTP_STATUS_CODES.get(status, "Error")
    request_id = g.get("request_id") if has_request_context() else None
    from registry.i18n import one_language, one_language_errors

    # One language per message: the page's, or for the API the Accept-Language one (Chinese by default).
    detail = one_language(detail)
    errors = one_language_errors(errors) if errors else errors
    if not is_api_request():
        from registry.database.engine import reading

        with reading():  # the page's layout only reads: it must not wait for a write lock (a 503 may be why we are here)
            body = render_template("error.html", status=status, detail=detail, request_id=request_id,
                                   **error_page_text(status, detail))
        return body, status, headers or {}
    payload = {"type": problem_type(status, kind), "title": title, "status": status}
    if detail:
        payload["detail"] = detail
    payload["instance"] = request.path
    if request_id:
        payload["request_id"] = request_id
    if errors:
        payload["errors"] = errors
    payload.update(extra)
    response = jsonify(payload)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def error_page_text(status: int, detail: str | None) -> dict[str, str]:
    """The registry's own title and explanation of an error page, in the page's language.

    Werkzeug's English descriptions ("The requested URL was not found ...") are
    replaced; a message of the registry's own (a service's) is kept as the detail.
    """
    from flask_babel import gettext as _

    texts = {
        400: (_("请求有误"), _("请求无法处理。请返回上一页检查填写的内容后重试。")),
        401: (_("需要登录"), _("请先登录后再访问此页面。")),
        403: (_("无权访问"), _("您的账号无权查看此页面。如需访问，请联系管理员。")),
        404: (_("页面不存在"), _("找不到此页面或记录：它可能不存在、已被移除，或不在您可查看的范围内。")),
        405: (_("不支持此操作"), _("此页面不支持该请求方式。请从页面上的链接或按钮进入。")),
        412: (_("记录已被修改"), _("记录已被他人修改，请刷新后重试。")),
        413: (_("文件过大"), _("上传的文件或提交的内容超过了允许的大小。")),
        429: (_("请求过于频繁"), _("操作过于频繁，请稍后再试。")),
        500: (_("服务器内部错误"), _("服务器出现错误，请稍后重试；如果问题持续，请联系管理员并提供下面的请求编号。")),
        503: (_("服务暂时不可用"), _("系统正忙，请稍后重试。")),
    }
    title, explanation = texts.get(status, (_("出错了"), _("请求无法完成。")))
    return {"title": title, "explanation": explanation}


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def handle_domain_error(error: DomainError):
    headers = {"WWW-Authenticate": 'Bearer realm="registry"'} if error.status == 401 else None
    return problem(error.status, title=error.title, detail=error.message, kind=_kebab(type(error).__name__),
                   errors=error.errors or None, headers=headers)


def handle_http_exception(error: HTTPException):
    """Answer werkzeug's and webargs's HTTP errors (422 carries the field messages)."""
    data = getattr(error, "data", None) or {}
    errors = None
    if "messages" in data:  # webargs: {location: {field: [messages]}}
        errors = {}
        for fields in data["messages"].values():
            errors.update(fields if isinstance(fields, dict) else {"_schema": fields})
    headers = dict(data.get("headers") or {})
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if error.code == 429:
        detail = "登录尝试过于频繁，请稍后再试 / too many attempts, try again later"
        # The limit's window: the document promises Retry-After with every 429 (as the public pages send).
        item = getattr(getattr(error, "limit", None), "limit", None)
        headers.setdefault("Retry-After", str(item.get_expiry() if item is not None else 60))
    elif error.code == 422 and errors:
        detail = "输入有误 / the request has invalid fields"
    elif is_api_request():
        detail = data.get("message") or error.description
    elif _is_csrf_error(error):
        from flask_babel import gettext

        detail = gettext("表单已过期或缺少安全令牌，请刷新页面后重新提交。")
    else:  # a page: the registry's own text (error_page_text), never werkzeug's English description
        detail = data.get("message")
    return problem(error.code or 500, detail=detail, errors=errors or None, headers=headers,
                   kind="validation-error" if error.code == 422 else None)


def _is_csrf_error(error: HTTPException) -> bool:
    from flask_wtf.csrf import CSRFError

    return isinstance(error, CSRFError)


def handle_stale_data(error: Exception):
    return problem(412, title=StaleEdit.title, kind="stale-edit",
                   detail="记录已被他人修改，请刷新后重试 / the record changed since you read it; reload and retry")


def handle_integrity_error(error: Exception):
    _log.warning("integrity error (request %s): %s", g.get("request_id"), error)
    return problem(409, title=Conflict.title, kind="conflict",
                   detail="与已有记录冲突 / the change conflicts with an existing record")


def handle_data_error(error: Exception):
    """A value the database cannot hold (out of range, NUL character): the client's data, not a crash."""
    _log.warning("data error (request %s): %s", g.get("request_id"), error)
    return problem(422, title=ValidationError.title, kind="validation-error",
                   detail="数据超出数据库可存储的范围 / a value cannot be stored (out of range or invalid characters)")


def handle_operational_error(error: Exception):
    """SQLite's write lock not had within the busy timeout: 503, try again shortly; anything else is a 500."""
    from flask import current_app

    from registry.database.engine import is_lock_timeout, retry_after_seconds

    if not is_lock_timeout(error):
        return handle_unexpected(error)
    timeout_ms = current_app.config["SQLITE_BUSY_TIMEOUT_MS"]
    _log.warning("database busy for %s ms (request %s): %s", timeout_ms, g.get("request_id"), error)
    if is_api_request():
        detail = "数据库正忙，请稍后重试 / the database is busy with another change; retry shortly"
    else:
        from flask_babel import gettext

        detail = gettext("数据库正忙（正在保存其他修改），请稍后重试。")
    return problem(503, kind="database-busy", detail=detail,
                   headers={"Retry-After": str(retry_after_seconds(timeout_ms))})


def handle_unexpected(error: Exception):
    """Log the traceback under the request id; tell the client only the id."""
    from flask import current_app

    request_id = g.get("request_id") if has_request_context() else None
    current_app.logger.exception("unhandled error, request_id=%s", request_id)
    return problem(500, detail=f"服务器内部错误，请联系管理员并提供编号 {request_id} / "
                               f"internal error; quote id {request_id} when reporting it",
                   error_id=request_id)


def init_app(app: Flask) -> None:
    """Register the handlers; later registrations override flask-smorest's JSON errors."""
    import sqlalchemy.exc
    import sqlalchemy.orm.exc

    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(sqlalchemy.orm.exc.StaleDataError, handle_stale_data)
    app.register_error_handler(sqlalchemy.exc.IntegrityError, handle_integrity_error)
    app.register_error_handler(sqlalchemy.exc.DataError, handle_data_error)
    app.register_error_handler(sqlalchemy.exc.OperationalError, handle_operational_error)
    app.register_error_handler(Exception, handle_unexpected)
