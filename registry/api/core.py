"""flask-smorest, shaped for the registry: problem+json, SQL paging, one commit per request.

Each feature's ``api.py`` builds its blueprint from :class:`Blueprint` here;
views call :func:`actor`, :func:`if_match` and :func:`tagged` and otherwise
only the feature's services.
"""
from __future__ import annotations

import copy
import hashlib
import http
import json
import re
from datetime import date
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g, request
from flask.json.provider import DefaultJSONProvider
from flask.views import MethodView
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from registry.api.schemas import MAX_PAGE
from registry.errors import (
    PROBLEM_JSON,
    DomainError,
    PreconditionRequired,
    StaleEdit,
    Unauthenticated,
    handle_http_exception,
)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every API error is answered."""

    # ``required`` only documents what every problem carries: this schema is never read from a request.
    type = ma.fields.String(required=True,
                            metadata={"description": "URI naming the kind of problem, or about:blank"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String(required=True, metadata={"description": "The request path"})
    request_id = ma.fields.String(metadata={"description": "Also in the X-Request-ID header and the server log"})
    error_id = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(), metadata={"description": "Field name → messages (invalid input)"})


class Api(flask_smorest.Api):
    """flask-smorest's Api answering errors as ``application/problem+json``.

    No catch-all ``default`` response: each operation declares the problems it can answer
    (:mod:`registry.api.openapi` finishes the document), so clients get typed errors.
    """

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def _init_spec(self, *args, **kwargs):
        from registry.api.openapi import EnumComponents, finish

        super()._init_spec(*args, **kwargs)
        spec = self.spec
        enums = EnumComponents(spec)
        self.ma_plugin.converter.add_attribute_function(lambda converter, field, ret, **kw: enums(field, ret))
        build = spec.to_dict
        spec.to_dict = lambda: finish(copy.deepcopy(build()))

    def _register_responses(self):
        """Document every error response as a problem, with its real content type."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


# --- Request bodies: JSON no deeper than any body the API takes ----------------

# The API, bound in registry.api.init_app.  It lives here, not in registry.extensions: the
# extensions sit below errors and the API core, which need them, and must not import back up.
api = Api()

# The deepest JSON a request body may be (the API's own bodies are 2 deep). Python's parser recurses once a
# level, so 100,000 nested "[" would end in RecursionError; deep bodies are refused first, with a 400.
MAX_JSON_DEPTH = 32
JSON_TOO_DEEP = (f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层 / the JSON body is nested more than "
                 f"{MAX_JSON_DEPTH} levels deep")


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_JSON_DEPTH` (a ValueError: Flask's ``silent`` reads skip it)."""


class BadBody(DomainError):
    """A request body the API cannot read at all (400)."""


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests lists and objects deeper than :data:`MAX_JSON_DEPTH` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(parse: Callable[[], Any]) -> Any:
    """Run a JSON parser, raising :class:`JSONTooDeep` for a document nested deeper than :data:`MAX_JSON_DEPTH`."""
    try:
        value = parse()
    except RecursionError:
        raise JSONTooDeep(JSON_TOO_DEEP) from None
    if isinstance(value, (dict, list)) and _too_deep(value):
        raise JSONTooDeep(JSON_TOO_DEEP)
    return value


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON (``request.get_json``), refusing documents nested too deeply."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(lambda: super(JSONProvider, self).loads(s, **kwargs))


class ArgumentsParser(FlaskParser):
    """webargs' parser for ``@bp.arguments``: a body nested too deeply is a 400 problem, not a crash.

    ``location="multipart"`` reads one ``multipart/form-data`` body: its files and its other fields.
    """

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def _raw_load_json(self, req):
        try:
            return parse_json(lambda: super(ArgumentsParser, self)._raw_load_json(req))
        except JSONTooDeep as exc:
            raise BadBody(str(exc), field="body") from None


# --- The request boundary owns the transaction --------------------------------


def transactional(view):
    """Commit once after the view returns; roll back on any error."""
    from registry.extensions import db

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = current_app.ensure_sync(view)(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return response

    return wrapper


class Blueprint(flask_smorest.Blueprint):
    """A resource blueprint: every view runs in one transaction; lists page in SQL."""

    ARGUMENTS_PARSER = ArgumentsParser()

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 200}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_problems_doc)

    @staticmethod
    def problems(*codes: int):
        """Declare problems a view answers beyond those its shape implies.

        See :func:`registry.api.openapi.problem_codes` for those every operation of its shape declares.
        """

        def decorator(func):
            func._apidoc = copy.deepcopy(getattr(func, "_apidoc", {}))
            func._apidoc["problems"] = sorted({*func._apidoc.get("problems", ()), *codes})
            return func

        return decorator

    @staticmethod
    def _prepare_problems_doc(doc, doc_info, **kwargs):
        if doc_info.get("problems"):
            doc["x-problems"] = list(doc_info["problems"])
        if doc_info.get("kept_answer"):
            doc["x-kept-answer"] = True  # registry.api.openapi documents its ETag, If-None-Match and 304
        return doc

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, **options):
        if isinstance(view_func, type) and issubclass(view_func, MethodView):
            if transactional not in view_func.decorators:
                view_func.decorators = [*view_func.decorators, transactional]
        elif view_func is not None:
            view_func = transactional(view_func)
        return super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)

    def paginate(self, pager=None, *, page=None, page_size=None, max_page_size=None):
        """flask-smorest's paging, with ``page`` at most ``MAX_PAGE`` (422 beyond, documented as ``maximum``)."""
        from config import Config

        decorator = super().paginate(pager, page=page, page_size=page_size,
                                     max_page_size=max_page_size or Config.API_PAGE_SIZE_MAX)

        def bounded(func):
            wrapper = decorator(func)
            parameters = wrapper._apidoc["pagination"]["parameters"]
            schema = parameters["schema"] = type("PaginationParametersSchema", (parameters["schema"],),
                                                 {"page": _page_field(page or 1)})

            @wraps(wrapper)
            def checked(*args, **kwargs):
                self.PAGINATION_ARGUMENTS_PARSER.parse(schema, request, location="query")
                return wrapper(*args, **kwargs)

            return checked

        return bounded

    def _set_pagination_metadata(self, page_params, result, headers):
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        meta = json.loads(headers[self.PAGINATION_HEADER_NAME])
        links = []
        for rel, key in (("first", "first_page"), ("prev", "previous_page"), ("next", "next_page"),
                         ("last", "last_page")):
            if key in meta:
                links.append(f'<{_page_url(meta[key], page_params.page_size)}>; rel="{rel}"')
        if links:
            headers["Link"] = ", ".join(links)
        return result, headers


def _page_field(default: int) -> ma.fields.Integer:
    return ma.fields.Integer(load_default=default, validate=ma.validate.Range(
        min=1, max=MAX_PAGE, error=f"页码应在 1 至 {MAX_PAGE} 之间 / page must be between 1 and {MAX_PAGE}"))


def _page_url(page: int, page_size: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("page", "page_size")]
    args += [("page", page), ("page_size", page_size)]
    return f"{request.base_url}?{urlencode(args)}"


def paginate(stmt: sa.Select, pagination_parameters, *, audited: bool = False) -> list:
    """Count and fetch one page in SQL; the cap follows ``API_PAGE_SIZE_MAX``.

    ``audited``: every change of these records writes an audit row, so the total is kept in the report cache
    until the data version moves (:func:`registry.coverage.cache.row_count`) instead of counted each time.
    """
    from registry.coverage.cache import row_count
    from registry.extensions import db

    params = pagination_parameters
    params.page_size = min(params.page_size, current_app.config["API_PAGE_SIZE_MAX"])
    if audited:
        params.item_count = row_count(stmt)
    else:
        params.item_count = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    if params.first_item >= params.item_count:
        return []  # past the end (and no OFFSET too large for the database)
    return list(db.session.scalars(stmt.limit(params.page_size).offset(params.first_item)))


def kept_answer(view):
    """Keep a list's whole answer until the data version moves: its JSON body, ``X-Pagination``, ``Link`` and an
    ``ETag`` (a hash of the three); ``If-None-Match`` naming it is answered 304.

    For lists of records whose every change writes an audit row (as :func:`paginate`'s ``audited``): any
    committed change moves the version, so a kept answer is never stale.  The key holds what the answer depends
    on besides the data: the reader's scope (staff read every record, an institution user their institution's),
    the query's arguments, the URL the links are made from, today's date (answers say a certificate's validity
    today) and the page size cap.  Put it above ``@bp.arguments``: a kept answer skips reading the arguments,
    counting, paging and dumping; an answer but 200 is never kept.
    """
    from registry.auth.policy import is_staff

    @wraps(view)
    def wrapper(*args, **kwargs):
        from registry.coverage import cache

        user = actor()
        readers = [user.role, None if is_staff(user) else user.institution_id]
        # The arguments in order of name, each name's values in the order given (``sorted`` is stable).
        arguments = sorted(request.args.items(multi=True), key=lambda item: item[0])
        key = cache.answer_key(request.endpoint, readers, arguments, request.base_url, date.today(),
                               current_app.config["API_PAGE_SIZE_MAX"])
        stored = cache.get_answer(key) if key is not None else None
        if stored is not None:
            response = current_app.response_class(stored["body"], status=200, headers=stored["headers"])
        else:
            response = view(*args, **kwargs)
            if not isinstance(response, current_app.response_class) or response.status_code != 200:
                return response
            body = response.get_data()
            digest = hashlib.sha256(body)  # the body and the paging headers: the same page of another total differs
            for name in ("X-Pagination", "Link"):
                digest.update(b"\0" + response.headers.get(name, "").encode())
            response.set_etag(digest.hexdigest()[:32])
            if key is not None:
                headers = [(name, value) for name, value in response.headers.items()
                           if name in ("Content-Type", "X-Pagination", "Link", "ETag")]
                cache.set_answer(key, {"body": body, "headers": headers})
        return response.make_conditional(request)

    wrapper._apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    wrapper._apidoc["kept_answer"] = True
    return wrapper


# --- Who is asking, and which version they edit -------------------------------


def actor():
    """The authenticated user of this API request (never ``None``: that is the system)."""
    user = g.get("api_user")
    if user is None:
        raise Unauthenticated("需要登录或 API 令牌 / authentication required (Bearer token or session)")
    return user


def allowed(check: Callable[..., None], *, kind: type | None = None, record: type | None = None):
    """Ask the policy before any argument is read: a forbidden call is 403 whatever its body or query.

    Put it above ``@bp.arguments`` (and ``@bp.paginate``).  It calls ``check(user)``; with ``kind``,
    ``check(user, kind)`` (creating that kind of record); with ``record``, the record the URL names is
    loaded first, so another institution's record is 404 as ever, then ``check(user, record)``.  The
    services ask again: this only makes the answer not depend on the input.
    """
    from registry.records.services import get_or_404  # here: registry.records.services needs the extensions, which need this module

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = actor()
            if record is not None:
                (key,) = kwargs.values()  # the one URL argument naming the record
                check(user, get_or_404(record, key, actor=user))
            else:
                check(user, *((kind,) if kind is not None else ()))
            return view(*args, **kwargs)

        wrapper.permission = check
        return Blueprint.problems(403)(wrapper)

    return decorator


_ETAG_RE = re.compile(r'^\s*"(\d{1,18})"\s*$')


def if_match() -> int:
    """The version named by ``If-Match``: required (428); anything but one strong ETag is stale (412)."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise PreconditionRequired(
            '修改须附 If-Match 头（记录的 ETag）/ send If-Match with the ETag you read, e.g. If-Match: "3"')
    match = _ETAG_RE.match(header)
    if match is None:
        raise StaleEdit("If-Match 与当前版本不符 / If-Match does not name the current version")
    return int(match.group(1))


def tagged(obj: Any, status: int | None = None):
    """Return ``obj`` with its version as a strong ETag."""
    headers = {"ETag": f'"{obj.version}"'}
    return (obj, status, headers) if status else (obj, headers)


IF_MATCH = {"in": "header", "name": "If-Match", "required": True,
            "description": 'The ETag of the version being changed, e.g. "3" (428 if missing, 412 if stale)',
            "schema": {"type": "string"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A workbook download: ``@bp.response(200, BINARY, content_type=XLSX)`` (a Response passes through unchanged).
BINARY = {"type": "string", "format": "binary"}
