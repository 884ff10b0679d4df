"""Application documents end to end with DOCUMENT_STORAGE=s3 (moto's S3 server): upload, new version,
download through the API, and a refused upload leaves no object in the bucket."""
from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa

from registry.applications.models import ApplicationDocument
from registry.documents.storage import S3Storage, storage
from registry.extensions import db
from tests import factories
from tests.applications.support import PDF, in_state
from tests.applications.test_api import BASE, _upload, _xlsx
from tests.documents.test_storage import moto_server  # noqa: F401 - the fixture: moto's S3 server on loopback


@pytest.fixture
def bucket(app, moto_server):  # noqa: F811
    """The app's documents in a fresh bucket of moto's server; yields the bucket's name."""
    name = f"registry-e2e-{os.getpid()}-{os.urandom(4).hex()}"
    settings = {"DOCUMENT_STORAGE": "s3", "S3_BUCKET": name, "S3_ENDPOINT_URL": moto_server,
                "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    app.extensions.pop("registry.documents", None)
    with app.app_context():
        store = storage()
        assert isinstance(store, S3Storage)
        store.client.create_bucket(Bucket=name)
    yield name
    app.config.update(saved)
    app.extensions.pop("registry.documents", None)


def objects(app, name: str) -> dict[str, bytes]:
    """Every object in the bucket, by key, with its bytes."""
    client = app.extensions["registry.documents"].client
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])]
    return {key: client.get_object(Bucket=name, Key=key)["Body"].read() for key in keys}


def test_upload_new_version_and_download_through_the_api(client, auth, users, app, bucket):
    application = in_state("draft", users, factories.standard(users.own))  # the checklist's five, on S3
    db.session.commit()
    assert len(objects(app, bucket)) == 5
    inst = auth.token(users.institution)
    first = _upload(client, inst, application.id, "technical_report", PDF, "技术报告.pdf")
    second = _upload(client, inst, application.id, "technical_report", PDF + b"%v2\n", "技术报告.pdf")
    assert (first.status_code, second.status_code) == (201, 201), (first.get_json(), second.get_json())
    first, second = first.get_json(), second.get_json()
    assert (first["version_no"], second["version_no"]) == (1, 2)
    stored = objects(app, bucket)
    assert len(stored) == 7 and all(key.startswith(f"applications/{application.id}/") for key in stored)
    keys = dict(db.session.execute(sa.select(ApplicationDocument.id, ApplicationDocument.storage_key)).all())
    assert stored[keys[first["id"]]] == PDF and stored[keys[second["id"]]] == PDF + b"%v2\n"
    for document, data in ((first, PDF), (second, PDF + b"%v2\n")):
        response = client.get(f"{BASE}/{application.id}/documents/{document['id']}", headers=inst)
        assert response.status_code == 200 and response.data == data
        assert response.mimetype == "application/pdf" and response.headers["Content-Length"] == str(len(data))
    # Another institution's user is answered as if nothing were there.
    other = client.get(f"{BASE}/{application.id}/documents/{first['id']}", headers=auth.token(users.other))
    assert other.status_code == 404


def test_a_refused_upload_leaves_no_object(client, auth, users, app, bucket):
    application = in_state("draft", users, factories.standard(users.own))
    db.session.commit()
    before = objects(app, bucket)
    rows = db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationDocument))
    inst = auth.token(users.institution)
    response = _upload(client, inst, application.id, "application_form", _xlsx(), "申请书.pdf")
    assert response.status_code == 422 and response.get_json()["errors"]["file"]
    response = _upload(client, inst, application.id, "application_form", io.BytesIO(PDF).read(), "dir/申请书.pdf")
    assert response.status_code == 422
    assert objects(app, bucket) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApplicationDocument)) == rows


def test_a_database_failure_after_storing_removes_the_object(users, app, bucket, monkeypatch):
    from registry.applications import services

    application = in_state("draft", users, factories.standard(users.own))
    before = objects(app, bucket)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "record", broken)
    with pytest.raises(RuntimeError):
        services.add_document(application, "technical_report", io.BytesIO(PDF), "技术报告.pdf",
                              actor=users.institution)
    assert objects(app, bucket) == before
