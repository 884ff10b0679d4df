"""Two people editing one standard: exactly one wins, the other is told (412) and changes nothing."""
from __future__ import annotations

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.standards.models import MeasurementStandard
from tests import factories


def test_two_clients_edit_the_same_standard(app, auth, users, session):
    standard = factories.standard(users.own, name="原名称")
    session.commit()
    url = f"/api/v1/standards/{standard.id}"
    alice, bob = app.test_client(), app.test_client()
    alice_headers, bob_headers = auth.token(users.institution), auth.token(users.regulator)

    alice_etag = alice.get(url, headers=alice_headers).headers["ETag"]
    bob_etag = bob.get(url, headers=bob_headers).headers["ETag"]
    assert alice_etag == bob_etag == '"1"'

    won = alice.patch(url, headers={**alice_headers, "If-Match": alice_etag},
                      json={"name": "爱丽丝的名称", "responsible_person": "爱丽丝"})
    lost = bob.patch(url, headers={**bob_headers, "If-Match": bob_etag}, json={"name": "鲍勃的名称"})

    assert won.status_code == 200 and won.headers["ETag"] == '"2"'
    assert lost.status_code == 412 and lost.mimetype == "application/problem+json"
    session.expire_all()
    stored = session.get(MeasurementStandard, standard.id)
    assert (stored.name, stored.responsible_person, stored.version) == ("爱丽丝的名称", "爱丽丝", 2)
    assert bob.get(url, headers=bob_headers).get_json() == won.get_json()
    updates = session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "measurement_standards", AuditEvent.entity_id == str(standard.id),
        AuditEvent.action == "update")).all()
    assert [event.after["name"] for event in updates] == ["爱丽丝的名称"]


def test_a_change_committed_behind_the_sessions_back_is_caught_by_sql(client, auth, users, session):
    """The service compares versions in memory; the UPDATE ... WHERE version = n catches the rest."""
    standard = factories.standard(users.own, name="原名称")
    headers = auth.token(users.regulator)  # commits
    session.get(MeasurementStandard, standard.id).name  # loaded at version 1 in this session
    session.execute(sa.text("UPDATE measurement_standards SET name = '别人的修改', version = version + 1 "
                            "WHERE id = :id"), {"id": standard.id})
    response = client.patch(f"/api/v1/standards/{standard.id}", headers={**headers, "If-Match": '"1"'},
                            json={"name": "我的修改"})
    assert response.status_code == 412 and response.mimetype == "application/problem+json"
    assert "请刷新后重试" in response.get_json()["detail"]  # from StaleDataError, not the service check
    session.expire_all()
    # The request rolled back as a whole (here that includes the simulated other change).
    assert session.get(MeasurementStandard, standard.id).name != "我的修改"


def test_withdraw_needs_the_current_version(client, auth, users, session):
    standard = factories.standard(users.own)
    session.commit()
    headers = auth.token(users.institution)
    url = f"/api/v1/standards/{standard.id}/withdraw"
    assert client.post(url, headers=headers, json={"reason": "x"}).status_code == 428
    assert client.post(url, headers={**headers, "If-Match": '"7"'}, json={"reason": "x"}).status_code == 412
    session.expire_all()
    assert session.get(MeasurementStandard, standard.id).withdrawn_at is None
    assert client.post(url, headers={**headers, "If-Match": '"1"'}, json={"reason": "x"}).status_code == 200
