"""The OpenAPI document as integrators use it: shared enums, required fields, every answer declared.

flask-smorest writes most of the document from the decorators; the rules here
finish it in one place, so a new operation follows them without being told:

- every ``OneOf`` field is a ``$ref`` to one enum component (:data:`ENUMS` names the
  shared ones; any other is named after its schema and field, e.g. ``StandardSort``);
- every property of a schema only ever answered (never read from a request) is
  ``required``: the server always sends it, ``null`` where it is nullable;
- each operation declares the problems it can answer (:func:`problem_codes`) and
  the headers it sends (``ETag``, ``Link``, ``X-Pagination``, ``Retry-After``).

``operationId`` is not made up here: each view names its own with
``@bp.doc(operationId="listStandards")`` (``tests/api/test_openapi.py`` fails for
an operation without one).
"""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import date, datetime
from typing import Any

import marshmallow as ma

REF = "#/components/schemas/"
PROBLEM_REF = {"$ref": REF + "Problem"}

# Enum components shared by every schema and parameter that takes the same choices.
ENUM_SOURCES = {
    "StandardStatus": ("registry.standards.models", "STANDARD_STATUSES"),
    "StandardCategory": ("registry.standards.models", "STANDARD_CATEGORIES"),
    "BuildKind": ("registry.standards.models", "BUILD_KINDS"),
    "UncertaintyKind": ("registry.standards.models", "UNCERTAINTY_KINDS"),
    "Validity": ("registry.standards.validity", "VALIDITY_STATES"),
    "SupervisionMode": ("registry.catalog.models", "SUPERVISION_MODES"),
    "VerificationForm": ("registry.catalog.models", "VERIFICATION_FORMS"),
    "Role": ("registry.auth.models", "ROLES"),
    "InstitutionKind": ("registry.institutions.models", "INSTITUTION_KINDS"),
    "IndicatorKind": ("registry.indicators.models", "INDICATOR_KINDS"),
    "IndicatorSource": ("registry.indicators.models", "INDICATOR_SOURCES"),
    "Comparator": ("registry.indicators.models", "COMPARATORS"),
    "RegionLevel": ("registry.reference.models", "REGION_LEVELS"),
    "DisciplineKind": ("registry.reference.models", "DISCIPLINE_KINDS"),
    "RegulationSeries": ("registry.regulations.models", "REGULATION_SERIES"),
    "RegulationKind": ("registry.regulations.models", "REGULATION_KINDS"),
    "RegulationLevel": ("registry.regulations.models", "REGULATION_LEVELS"),
    "RegulationStatus": ("registry.regulations.models", "REGULATION_STATUSES"),
    "RegistrationLevel": ("registry.personnel.models", "REGISTRATION_LEVELS"),
    "ImportStatus": ("registry.imports.models", "IMPORT_STATUSES"),
}
# Member names a generated client uses for values that are not identifiers.
VARNAMES = {">=": "AT_LEAST", "<=": "AT_MOST", "=": "EQUAL", "P+V": "P_AND_V", "1": "LEVEL_1", "2": "LEVEL_2"}


def _enums() -> dict[tuple, str]:
    import importlib

    return {tuple(getattr(importlib.import_module(module), name)): component
            for component, (module, name) in ENUM_SOURCES.items()}


def varname(value: str) -> str:
    """``-valid_until`` → ``VALID_UNTIL_DESC``; ``P+V`` → ``P_AND_V``."""
    if value in VARNAMES:
        return VARNAMES[value]
    name = re.sub(r"\W+", "_", value.lstrip("-")).strip("_").upper() or "EMPTY"
    if name[0].isdigit():
        name = "VALUE_" + name
    return name + ("_DESC" if value.startswith("-") else "")


def _schema_stem(schema: ma.Schema | None) -> str:
    name = type(schema).__name__ if schema is not None else ""
    for suffix in ("QueryArgs", "Args", "Schema", "Create", "Update"):
        name = name.removesuffix(suffix)
    return name


class EnumComponents:
    """An apispec attribute function turning a ``OneOf`` field into a reference to its enum component."""

    def __init__(self, spec):
        self.spec = spec
        self.known: dict[tuple, str] | None = None
        self.values: dict[str, tuple] = {}

    def __call__(self, field: ma.fields.Field, ret: dict, **kwargs) -> dict:
        choices = [v for v in ret.get("enum") or () if v is not None]
        if not choices or ret.get("type") != "string":
            return {}
        if self.known is None:
            self.known = _enums()
        name = self.known.get(tuple(choices))
        if name is None:
            stem = _schema_stem(field.parent) if isinstance(field.parent, ma.Schema) else ""
            name = stem + "".join(part.title() for part in (field.name or "").split("_"))
        if self.values.setdefault(name, tuple(choices)) != tuple(choices):
            raise ValueError(f"two enums named {name}: {self.values[name]} and {tuple(choices)}; "
                             "name one in registry.api.openapi.ENUM_SOURCES")
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, {"type": "string", "enum": list(choices),
                                               "x-enum-varnames": [varname(v) for v in choices]})
        for key in ("type", "enum", "nullable"):
            ret.pop(key, None)
        ret["allOf"] = [{"$ref": REF + name}]
        if field.allow_none:
            ret["nullable"] = True
        return {}


# --- Documentation schemas for the reports services build as dataclasses -----------------------


def dataclass_schema(cls: type, name: str | None = None, *, enums: dict[str, tuple] | None = None) -> type[ma.Schema]:
    """A marshmallow schema documenting ``asdict(cls(...))`` after ``_jsonable`` (dates as ISO text).

    Only for the document: :class:`AsIs` answers the service's dict unchanged, so the
    schema cannot drift into re-serialising; schemathesis checks each body against it.
    ``enums`` maps ``"Class.field"`` to the choices of a text field (nested classes included).
    """
    enums = enums or {}
    hints = typing.get_type_hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        field = _field_for(hints[f.name], enums=enums)
        choices = enums.get(f"{cls.__name__}.{f.name}")
        if choices is not None:
            field = ma.fields.String(allow_none=field.allow_none, validate=ma.validate.OneOf(choices))
        fields[f.name] = field
    return type(name or cls.__name__, (AsIs,), fields)


_SCHEMAS: dict[type, type[ma.Schema]] = {}


def _nested(cls: type, enums: dict) -> type[ma.Schema]:
    if cls not in _SCHEMAS:
        _SCHEMAS[cls] = dataclass_schema(cls, enums=enums)
    return _SCHEMAS[cls]


def _field_for(hint: Any, allow_none: bool = False, *, enums: dict) -> ma.fields.Field:
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        allow_none = allow_none or len(rest) < len(args)
        if set(rest) == {int, float}:
            return ma.fields.Float(allow_none=allow_none)
        (hint,) = rest
        return _field_for(hint, allow_none, enums=enums)
    if origin in (list, tuple):
        return ma.fields.List(_field_for(args[0], enums=enums), allow_none=allow_none)
    if origin is dict:
        return ma.fields.Dict(keys=ma.fields.String(), allow_none=allow_none)
    simple = {str: ma.fields.String, int: ma.fields.Integer, float: ma.fields.Float, bool: ma.fields.Boolean,
              date: ma.fields.Date, datetime: ma.fields.DateTime}
    if hint in simple:
        return simple[hint](allow_none=allow_none)
    if dataclasses.is_dataclass(hint):
        return ma.fields.Nested(_nested(hint, enums), allow_none=allow_none)
    raise TypeError(f"no OpenAPI type for {hint!r}")


class AsIs(ma.Schema):
    """A response schema for a body that is already JSON: documented, answered unchanged."""

    def dump(self, obj, *, many=None):
        return obj


# --- Finishing the document ----------------------------------------------------------------------

WRITE_METHODS = ("post", "put", "patch", "delete")
HEADERS = {
    "ETag": {"description": 'The record\'s version as a strong ETag, e.g. "3": send it back as If-Match',
             "schema": {"type": "string", "pattern": r'^"\d+"$'}, "required": True},
    "Link": {"description": 'RFC 8288 links to the first, prev, next and last pages (rel="first" ...)',
             "schema": {"type": "string"}},
    "X-Pagination": {"description": "The page and the totals, as JSON", "required": True,
                     "content": {"application/json": {"schema": {"$ref": REF + "PaginationMetadata"}}}},
    "Location": {"description": "Where to read the import run", "schema": {"type": "string"}},
    "ListETag": {"description": "The answer's version as a strong ETag: send it back as If-None-Match to be answered "
                                "304 while nothing has changed", "schema": {"type": "string"}, "required": True},
    "Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                    "schema": {"type": "string", "pattern": r"^\d+$"}},
}


def problem_codes(path: str, method: str, operation: dict) -> set[int]:
    """The problems an operation can answer, from what it takes (the view may add more)."""
    codes = set(operation.pop("x-problems", ()))
    if operation.get("security") != []:
        codes.add(401)
    if "{" in path:
        codes.add(404)  # the record named is not there, or not the caller's
    names = {(p.get("in"), p.get("name")) for p in operation.get("parameters", []) if "$ref" not in p}
    if ("header", "If-Match") in names:
        codes |= {412, 428}
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(422)
    body = operation.get("requestBody", {}).get("content", {})
    if body:
        codes |= {413}  # larger than MAX_CONTENT_LENGTH
    if "application/json" in body:
        codes |= {400}  # not JSON, or nested too deeply
        if method in ("post", "put", "patch"):
            codes.add(409)  # a duplicate (a unique number, code or key) or a state the change cannot apply to
    if method in WRITE_METHODS:
        codes.add(503)  # SQLite's write lock not had in time
    return codes


def _reachable(spec: dict, node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith(REF) and ref[len(REF):] not in found:
            found.add(ref[len(REF):])
            _reachable(spec, spec["components"]["schemas"].get(ref[len(REF):]), found)
        for value in node.values():
            _reachable(spec, value, found)
    elif isinstance(node, list):
        for value in node:
            _reachable(spec, value, found)


def finish(spec: dict) -> dict:
    """Declare problems and headers on every operation; mark what answers always carry as required."""
    schemas = spec["components"]["schemas"]
    _nullable_refs(schemas)
    responses = spec["components"].setdefault("responses", {})
    answered, read = set(), set()
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            _hoist_enum(spec, parameter)
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            declared = operation.setdefault("responses", {})
            if operation.pop("x-kept-answer", False):
                _conditional_get(operation, declared)
            for code in sorted(problem_codes(path, method, operation)):
                declared.setdefault(str(code), {"$ref": "#/components/responses/" + _problem_response(responses, code)})
            for code, response in declared.items():
                if "$ref" in response:
                    continue
                if code.startswith("2"):
                    _success_headers(spec, operation, response, record="{" in path or code == "201")
                _reachable(spec, response, answered)
            _reachable(spec, operation.get("requestBody"), read)
            _reachable(spec, operation.get("parameters"), read)
            _reachable(spec, item.get("parameters"), read)
    spec["components"].get("headers", {}).pop("PAGINATION", None)  # replaced by HEADERS["X-Pagination"]
    if not spec["components"].get("headers", True):
        del spec["components"]["headers"]
    for name in answered - read - {"Problem", "PaginationMetadata"}:
        schema = schemas[name]
        if {"status", "instance"} <= set(schema.get("properties", {})):
            continue  # a problem: its own fields say what is required
        if schema.get("type") == "object" and "properties" in schema:
            schema["required"] = sorted(p for p, prop in schema["properties"].items() if not prop.get("writeOnly"))
    return spec


def _nullable_refs(node: Any) -> None:
    """apispec's nullable nested schema (``anyOf: [{type: object, nullable}, $ref]``) as ``nullable`` + ``allOf``,
    which generators read as "that model or null" rather than a union with an anonymous object."""
    if isinstance(node, dict):
        options = node.get("anyOf")
        if (isinstance(options, list) and len(options) == 2 and {"type": "object", "nullable": True} in options
                and any("$ref" in o for o in options)):
            del node["anyOf"]
            node["allOf"] = [o for o in options if "$ref" in o]
            node["nullable"] = True
        for value in node.values():
            _nullable_refs(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_refs(value)


def _hoist_enum(spec: dict, parameter: dict) -> None:
    """A parameter's enum written by hand (``{"title": "ExportKind", "enum": [...]}``) becomes a component."""
    schema = parameter.get("schema", {})
    if "enum" in schema and "title" in schema:
        name = schema.pop("title")
        spec["components"]["schemas"][name] = {**schema, "x-enum-varnames": [varname(v) for v in schema["enum"]]}
        parameter["schema"] = {"$ref": REF + name}


def _problem_response(responses: dict, code: int) -> str:
    """The component response for a problem status (flask-smorest registers only those its decorators name)."""
    from http import HTTPStatus

    from registry.errors import PROBLEM_JSON

    status = HTTPStatus(code)
    response = responses.setdefault(status.name, {"description": status.phrase,
                                                  "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}})
    if code in (429, 503):
        response["headers"] = {"Retry-After": HEADERS["Retry-After"]}
    return status.name


IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False,
                 "description": "The ETag of an answer read before: 304 without a body if it is still the answer",
                 "schema": {"type": "string"}}


def _conditional_get(operation: dict, declared: dict) -> None:
    """A list answered from :func:`registry.api.core.kept_answer`: its ETag, ``If-None-Match`` and the 304."""
    operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))
    declared.setdefault("304", {"description": "Not Modified: the answer is the one whose ETag was sent",
                                "headers": {"ETag": HEADERS["ListETag"]}})
    ok = declared.get("200")
    if ok is not None and "$ref" not in ok:
        ok.setdefault("headers", {})["ETag"] = HEADERS["ListETag"]


def _success_headers(spec: dict, operation: dict, response: dict, *, record: bool) -> None:
    """``X-Pagination`` and ``Link`` on lists; ``ETag`` on one record read, created or changed by its URL."""
    headers = response.setdefault("headers", {})
    if "X-Pagination" in headers or "PAGINATION" in str(headers):
        headers["X-Pagination"] = HEADERS["X-Pagination"]
        headers["Link"] = HEADERS["Link"]
    schema = next(iter(response.get("content", {}).values()), {}).get("schema", {})
    ref = schema.get("$ref", "")
    answered = spec["components"]["schemas"].get(ref[len(REF):], {}) if ref.startswith(REF) else {}
    if record and "version" in answered.get("properties", {}):
        headers.setdefault("ETag", HEADERS["ETag"])
    if not headers:
        del response["headers"]
