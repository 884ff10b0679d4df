"""The OpenAPI document as integrators use it: valid, named, typed, and a client generated from it works.

``tests/api/test_fuzz.py`` checks the server against the document (bodies, status codes, headers);
these check the document itself, then generate a Python client with openapi-python-client
and run the worked example of ``docs/api.md`` with it.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_document_is_valid_openapi_3_0_3(spec):
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is a dev dependency")
    assert spec["openapi"] == "3.0.3"
    validator.validate(spec)  # raises on the first error


def test_every_operation_has_a_readable_unique_operation_id(spec):
    """A new view without ``@bp.doc(operationId="verbNoun")`` fails here: nothing makes one up."""
    ids = {}
    for path, method, operation in _operations(spec):
        op_id = operation.get("operationId")
        assert op_id, f"{method.upper()} {path} has no operationId: add @bp.doc(operationId=...)"
        assert OPERATION_ID.match(op_id), f"{method.upper()} {path}: {op_id!r} is not lowerCamelCase"
        assert op_id not in ids, f"{op_id} names both {ids[op_id]} and {method.upper()} {path}"
        ids[op_id] = f"{method.upper()} {path}"
    assert len(ids) > 80
    # The names integrators already call: stable, so changing one is a breaking change.
    assert {ids[name] for name in ("listStandards", "getStandard", "updateStandard", "withdrawStandard",
                                   "getCoverage", "createImport", "getImport", "issueToken")} == {
        "GET /api/v1/standards", "GET /api/v1/standards/{standard_id}", "PATCH /api/v1/standards/{standard_id}",
        "POST /api/v1/standards/{standard_id}/withdraw", "GET /api/v1/coverage", "POST /api/v1/imports",
        "GET /api/v1/imports/{run_id}", "POST /api/v1/auth/tokens"}


def test_every_api_route_is_in_the_document(app, spec):
    documented = {(method.upper(), path) for path, method, _ in _operations(spec)}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_every_success_has_a_schema_and_every_problem_is_a_problem(spec):
    for path, method, operation in _operations(spec):
        where = f"{method.upper()} {path}"
        assert "default" not in operation["responses"], where
        for code, response in operation["responses"].items():
            if "$ref" in response:
                name = response["$ref"].rsplit("/", 1)[1]
                response = spec["components"]["responses"][name]
            if code in ("204", "304"):  # no body: no content, and no schema
                assert "content" not in response, where
                continue
            ((media_type, content),) = response["content"].items()
            assert content.get("schema"), f"{where} {code} has no schema"
            if code.startswith(("4", "5")):
                assert media_type == "application/problem+json", f"{where} {code}"
        if operation.get("security") != []:
            assert "401" in operation["responses"], where


def test_enums_are_shared_components(spec):
    """One ``StandardStatus`` wherever a status is read or written; no enum is spelled out in place."""
    schemas = spec["components"]["schemas"]
    inline = []

    def walk(node, where):
        if isinstance(node, dict):
            if "enum" in node and not re.fullmatch(r"components/schemas/\w+", where):
                inline.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "")
    walk(schemas, "components/schemas")
    assert [w for w in inline if not w.startswith("/components/schemas/")] == []
    status = {"allOf": [{"$ref": "#/components/schemas/StandardStatus"}]}
    assert schemas["Standard"]["properties"]["status"] == status
    assert schemas["StandardCreate"]["properties"]["status"] == status
    assert schemas["StandardUpdate"]["properties"]["status"] == status
    listed = next(p for p in spec["paths"]["/api/v1/standards"]["get"]["parameters"] if p["name"] == "status")
    assert listed["schema"] == status
    # A nullable enum is the enum, nullable; null is not one of its values.
    assert schemas["Standard"]["properties"]["build_kind"] == {
        "allOf": [{"$ref": "#/components/schemas/BuildKind"}], "nullable": True}
    assert None not in schemas["BuildKind"]["enum"]
    assert schemas["StandardSort"]["x-enum-varnames"][:2] == ["NAME", "NAME_DESC"]
    kind = spec["paths"]["/api/v1/exports/{kind}.xlsx"]["parameters"][0]
    assert kind["schema"] == {"$ref": "#/components/schemas/ExportKind"}


def test_what_every_answer_carries_is_required(spec):
    schemas = spec["components"]["schemas"]
    assert set(schemas["Standard"]["required"]) == set(schemas["Standard"]["properties"])
    assert "withdrawn_at" in schemas["Standard"]["required"]  # always sent, null until withdrawn
    assert schemas["Problem"]["required"] == ["instance", "status", "title", "type"]
    assert set(schemas["CoverageReport"]["required"]) >= {"as_of", "region", "indicators", "catalog", "plan"}
    assert "required" not in schemas["StandardUpdate"]  # a change names only what changes


def test_the_import_upload_is_one_multipart_body(spec):
    operation = spec["paths"]["/api/v1/imports"]["post"]
    assert "parameters" not in operation
    (media_type, content), = operation["requestBody"]["content"].items()
    assert media_type == "multipart/form-data"
    body = spec["components"]["schemas"][content["schema"]["$ref"].rsplit("/", 1)[1]]
    assert body["properties"]["file"] == {"type": "string", "format": "binary",
                                          "description": "The workbook (.xlsx, .xls or .ods) or a CSV file "
                                                         "(UTF-8 or GB18030)"}
    assert body["required"] == ["file"] and {"dry_run", "sheet"} <= set(body["properties"])
    responses = operation["responses"]
    assert {"201", "202", "400", "401", "413", "422"} <= set(responses)
    for code in ("201", "202"):
        assert responses[code]["headers"]["Location"]["required"] is True
        assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ImportRun"}
    assert responses["400"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/FileRefused"}


def test_headers_are_declared(spec):
    def headers(path, method, code):
        return spec["paths"][path][method]["responses"][code].get("headers", {})

    listed = headers("/api/v1/standards", "get", "200")
    assert listed["X-Pagination"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginationMetadata"}
    assert "Link" in listed
    # A kept list answers an ETag of its own (not a record's version: no If-Match pattern), If-None-Match and 304.
    assert "pattern" not in listed["ETag"]["schema"] and "If-None-Match" in listed["ETag"]["description"]
    listing = spec["paths"]["/api/v1/standards"]["get"]
    assert any(p.get("name") == "If-None-Match" and p.get("in") == "header" for p in listing["parameters"])
    assert "ETag" in listing["responses"]["304"]["headers"]
    assert "ETag" not in headers("/api/v1/institutions", "get", "200")  # a list not kept whole: no ETag
    for path, method, code in (("/api/v1/standards/{standard_id}", "get", "200"), ("/api/v1/standards", "post", "201"),
                               ("/api/v1/standards/{standard_id}", "patch", "200"),
                               ("/api/v1/standards/{standard_id}/withdraw", "post", "200")):
        assert headers(path, method, code)["ETag"]["required"] is True, (path, method)
    patch = spec["paths"]["/api/v1/standards/{standard_id}"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    for name in ("TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"):
        assert spec["components"]["responses"][name]["headers"]["Retry-After"]["required"] is True
    assert "429" in spec["paths"]["/api/v1/auth/tokens"]["post"]["responses"]
    assert "503" in patch["responses"]


def test_x_pagination_is_the_json_it_is_documented_as(client, auth, users, spec):
    from tests import factories

    for _ in range(3):
        factories.standard(users.own)
    response = client.get("/api/v1/standards?page_size=2", headers=auth.token(users.admin))
    meta = json.loads(response.headers["X-Pagination"])
    assert meta == {"total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1, "next_page": 2}
    assert set(meta) <= set(spec["components"]["schemas"]["PaginationMetadata"]["properties"])


# --- A generated Python client ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def registry_client(spec, tmp_path_factory):
    """Generate the client as ``docs/api.md`` says, into a temporary folder, and import it."""
    pytest.importorskip("openapi_python_client",
                        reason="openapi-python-client (a dev dependency: pip install -e '.[dev]') is not installed")
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    bin_dir = str(Path(sys.executable).parent)  # its ruff formats the code it writes
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(document), "--meta", "none",
         "--config", str(ROOT / "docs" / "api-client.yaml"), "--output-path", str(folder / "registry_client"),
         "--fail-on-warning"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "ruff is not in path" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("registry_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == "registry_client" or m.startswith("registry_client.")]:
            del sys.modules[name]


def test_the_generated_client_is_typed(registry_client, client, auth, users):
    """A real answer parses into the generated model: enums as enum members, dates as dates, nothing unset."""
    import datetime

    from registry_client.models import BuildKind, Standard, StandardStatus
    from registry_client.types import Unset
    from tests import factories

    record = factories.standard(users.own, status="sealed", status_since=datetime.date(2026, 1, 5))
    body = client.get(f"/api/v1/standards/{record.id}", headers=auth.token(users.admin)).get_json()
    standard = Standard.from_dict(body)
    assert standard.status is StandardStatus.SEALED and standard.status_since == datetime.date(2026, 1, 5)
    assert standard.build_kind is None and standard.id == record.id
    assert not [name for name in Standard.__annotations__ if isinstance(getattr(standard, name), Unset)]
    assert standard.to_dict() == body
    assert [member.value for member in BuildKind] == ["new", "renovated"]


def _worked_example() -> str:
    """The Python block under "A generated Python client" in docs/api.md."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("## A generated Python client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_worked_example_in_the_docs_runs(registry_client, app, users, session, monkeypatch, tmp_path):
    """The example talks to this app through httpx's WSGI transport, as it would to a server."""
    from importers.export import export_workbook
    from registry.standards.models import MeasurementStandard
    from tests import factories

    for n in range(3):
        factories.standard(users.own, responsible_person=f"原负责人{n}")
    session.commit()
    workbook = tmp_path / "registry.xlsx"
    with workbook.open("wb") as out:
        export_workbook(out, actor=users.admin, kinds=["standards"])

    class AppClient(httpx.Client):
        def __init__(self, **kwargs):
            super().__init__(transport=httpx.WSGITransport(app=app), **kwargs)

    monkeypatch.setattr(httpx, "Client", AppClient)
    monkeypatch.setenv("REGISTRY_EMAIL", users.admin.email)
    monkeypatch.setenv("REGISTRY_PASSWORD", factories.PASSWORD)
    monkeypatch.setenv("REGISTRY_WORKBOOK", str(workbook))
    namespace = {"__name__": "worked_example"}
    exec(compile(_worked_example(), "docs/api.md", "exec"), namespace)  # noqa: S102 (our own documentation)

    from registry_client.models import ImportStatus

    assert len(namespace["standards"]) == 3  # every page of them
    assert namespace["changed"].status_code == 200
    assert namespace["changed"].headers["ETag"] == '"2"'
    session.expire_all()
    first = session.get(MeasurementStandard, namespace["standards"][0].id)
    assert first.responsible_person == "示例负责人" and first.version == 2
    assert namespace["report"].region == "360100" and namespace["report"].indicators
    assert namespace["run"].status is ImportStatus.PREVIEWED and namespace["run"].dry_run is True
    assert namespace["run"].errors == []
