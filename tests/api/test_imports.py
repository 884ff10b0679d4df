"""``/api/v1/imports``, ``/exports`` and ``/templates`` over HTTP."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from registry.extensions import db
from registry.standards.models import MeasurementStandard
from tests.importers.books import STANDARD_HEADER, xlsx
from tests.importers.test_import import standard_row


def _post(client, headers, data: bytes, *, dry_run=False, name="book.xlsx", lang="en", sheet=None):
    """Post an upload; messages come in ``lang`` (Accept-Language)."""
    form = {"file": (io.BytesIO(data), name), "dry_run": "true" if dry_run else "false"}
    if sheet is not None:
        form["sheet"] = sheet
    return client.post("/api/v1/imports", headers={**headers, "Accept-Language": lang},
                       content_type="multipart/form-data", data=form)


def _standards() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MeasurementStandard))


def test_preview_then_apply_then_read_the_run(client, auth, users, session):
    headers = auth.token(users.regulator)
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第701号", users.own.credit_code)]})
    before = _standards()

    preview = _post(client, headers, book, dry_run=True)
    assert preview.status_code == 201, preview.get_json()
    assert preview.get_json()["status"] == "previewed"
    assert preview.get_json()["sheets"]["计量标准"]["created"] == 1
    assert _standards() == before

    applied = _post(client, headers, book)
    assert applied.status_code == 201 and applied.get_json()["status"] == "applied"
    assert _standards() == before + 1
    run = client.get(applied.headers["Location"], headers=headers).get_json()
    assert (run["status"], run["progress"], run["ok"]) == ("applied", 1.0, True)


def test_invalid_rows_write_nothing_and_give_an_error_workbook(client, auth, users, session):
    headers = auth.token(users.regulator)
    bad = standard_row("[2024]赣量标证字第702号", users.own.credit_code, **{"类别*": "公用"})
    response = _post(client, headers, xlsx({"计量标准": [STANDARD_HEADER, bad]}))
    body = response.get_json()
    assert body["status"] == "invalid" and body["errors"][0]["column"] == "类别"
    assert session.scalar(sa.select(MeasurementStandard.id).where(
        MeasurementStandard.certificate_no == "[2024]赣量标证字第702号")) is None
    errors = client.get(f"/api/v1/imports/{body['id']}/errors.xlsx", headers=headers)
    assert errors.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(errors.data))
    assert len(book.sheetnames) >= 2


def test_unreadable_file_is_refused(client, auth, users):
    headers = auth.token(users.regulator)
    response = _post(client, headers, b"not a workbook at all")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 400 and problem["type"] == "urn:registry:problem:file-refused"
    assert problem["detail"] == "not a file the registry imports: it takes .xlsx, .xls, .ods, .csv"
    run = client.get(response.headers["Location"], headers=headers).get_json()
    assert run["id"] == problem["id"] and run["status"] == "rejected"
    assert run["errors"][0]["message"] == problem["detail"]


def _corner(ref: str) -> bytes:
    from tests.importers.test_files import a1_and

    return a1_and(ref)


def test_a_sheet_reaching_far_beyond_the_limits_is_refused_with_a_clear_detail(client, auth, users, app, monkeypatch):
    """The issue's 2 KB workbook, scaled down: refused before calamine opens it, nothing written."""
    import python_calamine

    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1_000)
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 20)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_object",
                        lambda *a, **k: pytest.fail("the workbook reached the parser"))
    headers = auth.token(users.institution)
    for ref, expected in (("B5000", "reaches row 5,000 (cell B5000), more than 1,000 rows"),
                          ("AZ5", "reaches column 52 (cell AZ5), more than 20 columns")):
        response = _post(client, headers, _corner(ref), dry_run=True)
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert expected in response.get_json()["detail"]


def test_uploads_are_kept_readable_by_the_registry_only(client, auth, users, app, monkeypatch, tmp_path):
    import os
    import stat

    def mode(path) -> int:
        return stat.S_IMODE(os.stat(path).st_mode)

    headers = auth.token(users.regulator)
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第709号", users.own.credit_code)]})
    old = os.umask(0o022)
    try:
        for folder in (tmp_path / "new" / "imports", tmp_path / "old"):
            if folder.name == "old":
                folder.mkdir(mode=0o755)
                folder.chmod(0o755)    # a folder made before, readable by all
            monkeypatch.setitem(app.config, "IMPORT_STORAGE_DIR", str(folder))
            run = _post(client, headers, book, dry_run=True).get_json()
            assert mode(folder / f"{run['id']}.xlsx") == 0o600
            assert mode(folder) == 0o700
    finally:
        os.umask(old)


def test_an_import_run_is_private_to_its_starter_and_staff(client, auth, users, session):
    book = xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第703号", users.own.credit_code)]})
    run = _post(client, auth.token(users.institution), book, dry_run=True).get_json()
    assert run["status"] == "previewed"
    assert client.get(f"/api/v1/imports/{run['id']}", headers=auth.token(users.other)).status_code == 404
    assert client.get(f"/api/v1/imports/{run['id']}", headers=auth.token(users.regulator)).status_code == 200


def test_template_and_export_download(client, auth, users):
    headers = auth.token(users.regulator)
    template = client.get("/api/v1/templates/registry.xlsx", headers=headers)
    assert template.status_code == 200
    assert "计量标准" in openpyxl.load_workbook(io.BytesIO(template.data)).sheetnames
    export = client.get("/api/v1/exports/standards.xlsx?region=360100", headers=headers)
    assert export.status_code == 200
    assert client.get("/api/v1/exports/nonsense.xlsx", headers=headers).status_code == 422
    assert client.get("/api/v1/templates/registry.xlsx").status_code == 401


def test_a_refused_file_has_no_error_workbook(client, auth, users):
    headers = auth.token(users.regulator)
    refused = _post(client, headers, b"not a workbook at all").get_json()
    run = client.get(f"/api/v1/imports/{refused['id']}", headers=headers).get_json()
    assert run["status"] == "rejected"
    assert client.get(f"/api/v1/imports/{run['id']}/errors.xlsx", headers=headers).status_code == 422


# --- other formats, and the language of the messages -----------------------------------------------


@pytest.mark.parametrize("name", ["xls: a lying DIMENSIONS record", "ods: a cell repeated a billion times",
                                  "csv: too many columns"])
def test_a_hostile_file_of_each_format_is_refused_with_400(client, auth, users, app, monkeypatch, name):
    from tests.importers.test_formats import HOSTILE

    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 1_000)
    monkeypatch.setitem(app.config, "IMPORT_MAX_COLUMNS", 20)
    monkeypatch.setitem(app.config, "IMPORT_MAX_CELLS", 10_000)
    before = _standards()
    build, expected = HOSTILE[name]
    response = _post(client, auth.token(users.regulator), build(), name="upload." + name.split(":")[0])
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert expected in response.get_json()["detail"]
    assert _standards() == before


def test_a_csv_upload_with_its_sheet_named_imports_and_its_error_workbook_is_an_xlsx(client, auth, users, session):
    from tests.importers.formats_rows import csv_text

    headers = auth.token(users.regulator)
    rows = [STANDARD_HEADER, standard_row("[2024]赣量标证字第731号", users.own.credit_code),
            standard_row("[2024]赣量标证字第732号", users.own.credit_code, **{"类别*": "公用"})]
    body = _post(client, headers, csv_text(rows).encode("gb18030"), name="standards.csv", sheet="计量标准").get_json()
    assert body["status"] == "invalid" and [(e["sheet"], e["row"], e["column"]) for e in body["errors"]] == \
        [("计量标准", 3, "类别")]
    errors = client.get(f"/api/v1/imports/{body['id']}/errors.xlsx", headers=headers)
    assert errors.status_code == 200
    marked = openpyxl.load_workbook(io.BytesIO(errors.data))
    assert marked["计量标准"].cell(3, 1).value == "[2024]赣量标证字第732号"
    good = _post(client, headers, csv_text(rows[:2]).encode(), name="standards.csv").get_json()
    assert good["status"] == "applied" and good["sheets"]["计量标准"]["created"] == 1


@pytest.mark.parametrize("lang, expected", [("zh", "无法识别：公用（可填：社会公用、部门最高、企事业最高）"),
                                            ("en", "unknown value '公用' (one of: 社会公用, 部门最高, 企事业最高)")])
def test_import_messages_come_in_the_requests_language_only(client, auth, users, lang, expected):
    headers = auth.token(users.regulator)
    bad = standard_row("[2024]赣量标证字第733号", users.own.credit_code, **{"类别*": "公用", "有效期至*": None})
    body = _post(client, headers, xlsx({"计量标准": [STANDARD_HEADER, bad]}), lang=lang).get_json()
    messages = {e["column"]: e["message"] for e in body["errors"]}
    assert messages["类别"] == expected
    required = {"zh": "必填", "en": "required"}[lang]
    assert messages["有效期至"] == required
    for message in messages.values():
        assert " / " not in message or lang == "zh" and "must" not in message, message
    refused = _post(client, headers, b"\x7fELF" + bytes(40), lang=lang).get_json()
    assert refused["detail"] == {"zh": "不是可导入的文件：可导入 .xlsx, .xls, .ods, .csv",
                                 "en": "not a file the registry imports: it takes .xlsx, .xls, .ods, .csv"}[lang]
