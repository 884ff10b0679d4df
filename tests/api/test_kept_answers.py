"""The standards list keeps its whole answer until the data changes: a repeated request reads no standard, yet a
committed change shows at once, each reader scope has its own answer, and ``If-None-Match`` is answered 304."""
from __future__ import annotations

import json

import pytest

from tests import factories
from tests.coverage.test_cache import backend
from tests.statements import counted as statements

URL = "/api/v1/standards?page_size=2&sort=name"


@pytest.fixture
def answer_cache(app):
    from flask_caching.backends.simplecache import SimpleCache

    with backend(app, SimpleCache()) as store:
        yield store


@pytest.fixture
def listed(session, users):
    """Three standards of ``own`` and two of ``other_institution``."""
    for n in range(3):
        factories.standard(users.own, name=f"本机构标准{n}")
    for n in range(2):
        factories.standard(users.other_institution, name=f"他机构标准{n}")
    session.commit()


def _kept(store) -> list[str]:
    return [key for key in store._cache if key.startswith("answer:")]


def _standard_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if "measurement_standards" in s or "standard_catalog_lines" in s]


def test_a_repeated_list_reads_no_standard_and_answers_the_same(client, auth, users, listed, answer_cache):
    headers = auth.token(users.regulator)
    first = client.get(URL, headers=headers)
    assert first.status_code == 200 and len(_kept(answer_cache)) == 1
    with statements() as seen:
        again = client.get(URL, headers=headers)
    assert _standard_reads(seen) == []
    assert again.status_code == 200 and again.get_data() == first.get_data()
    for name in ("X-Pagination", "Link", "ETag", "Content-Type"):
        assert again.headers[name] == first.headers[name], name
    assert json.loads(again.headers["X-Pagination"])["total"] == 5
    assert [s["name"] for s in again.get_json()] == ["他机构标准0", "他机构标准1"]


def test_other_arguments_are_other_answers(client, auth, users, listed, answer_cache):
    headers = auth.token(users.regulator)
    page_one = client.get(URL, headers=headers).get_json()
    page_two = client.get(URL + "&page=2", headers=headers).get_json()
    assert [s["name"] for s in page_one] == ["他机构标准0", "他机构标准1"]
    assert [s["name"] for s in page_two] == ["本机构标准0", "本机构标准1"]
    assert len(_kept(answer_cache)) == 2
    # The same arguments in another order are the same answer.
    assert client.get("/api/v1/standards?sort=name&page_size=2", headers=headers).get_json() == page_one
    assert len(_kept(answer_cache)) == 2


def test_a_committed_change_shows_at_once(client, auth, users, listed, answer_cache):
    headers = auth.token(users.regulator)
    before = client.get(URL, headers=headers)
    created = client.post("/api/v1/standards", headers=headers, json={
        "certificate_no": "[2025]赣量标证字第 901 号", "name": "丁新标准", "category": "social_public",
        "institution_id": users.own.id, "issued_on": "2025-03-01"})
    assert created.status_code == 201
    after = client.get(URL, headers=headers)
    assert json.loads(after.headers["X-Pagination"])["total"] == 6
    assert [s["name"] for s in after.get_json()] == ["丁新标准", "他机构标准0"]
    assert after.headers["ETag"] != before.headers["ETag"]


def test_an_institution_user_never_gets_another_scopes_answer(client, auth, users, listed, answer_cache):
    staff = client.get(URL, headers=auth.token(users.regulator))
    assert json.loads(staff.headers["X-Pagination"])["total"] == 5
    own = client.get(URL, headers=auth.token(users.institution))
    other = client.get(URL, headers=auth.token(users.other))
    assert json.loads(own.headers["X-Pagination"])["total"] == 3
    assert {s["institution_id"] for s in own.get_json()} == {users.own.id}
    assert json.loads(other.headers["X-Pagination"])["total"] == 2
    assert {s["institution_id"] for s in other.get_json()} == {users.other_institution.id}
    assert len({staff.headers["ETag"], own.headers["ETag"], other.headers["ETag"]}) == 3
    assert len(_kept(answer_cache)) == 3
    # The staff answer is not handed to an institution user presenting its ETag either.
    again = client.get(URL, headers={**auth.token(users.institution), "If-None-Match": staff.headers["ETag"]})
    assert again.status_code == 200 and json.loads(again.headers["X-Pagination"])["total"] == 3


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "nothing kept"])
def test_if_none_match_is_answered_304_until_the_data_changes(client, auth, users, listed, app, kept):
    from flask_caching.backends.nullcache import NullCache
    from flask_caching.backends.simplecache import SimpleCache

    with backend(app, SimpleCache() if kept else NullCache()):
        headers = auth.token(users.regulator)
        first = client.get(URL, headers=headers)
        etag = first.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        unchanged = client.get(URL, headers={**headers, "If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.get_data() == b""
        assert unchanged.headers["ETag"] == etag
        assert client.get(URL, headers={**headers, "If-None-Match": '"something-else"'}).status_code == 200
        listed_standard = first.get_json()[0]
        changed = client.patch(f"/api/v1/standards/{listed_standard['id']}",
                               headers={**headers, "If-Match": f'"{listed_standard["version"]}"'},
                               json={"name": "他机构标准0（改）"})
        assert changed.status_code == 200
        after = client.get(URL, headers={**headers, "If-None-Match": etag})
        assert after.status_code == 200 and after.headers["ETag"] != etag
        assert after.get_json()[0]["name"] == "他机构标准0（改）"


def test_an_error_is_never_kept(client, auth, users, listed, answer_cache):
    headers = auth.token(users.regulator)
    assert client.get("/api/v1/standards?page_size=100000", headers=headers).status_code == 422
    assert client.get("/api/v1/standards?page_size=100000", headers=headers).status_code == 422
    assert _kept(answer_cache) == []
    assert client.get("/api/v1/standards", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_two_app_servers_share_kept_answers_through_redis_and_see_each_others_writes(app, auth, users, listed):
    import uuid

    from tests.coverage.test_cache import _app_with_redis, _redis_or_skip

    url = app.config["TEST_REDIS_URL"]
    redis_client = _redis_or_skip(url)
    prefix = f"registry-test:{uuid.uuid4().hex}:"
    first, second = _app_with_redis(app, url, prefix), _app_with_redis(app, url, prefix)
    headers = auth.token(users.regulator)  # the tests' session (one connection) serves both apps
    try:
        with first.app_context():
            body = first.test_client().get(URL, headers=headers).get_data()
        assert [k for k in redis_client.keys(prefix + "*") if b":answer:" in k], "kept in Redis"
        with second.app_context(), statements() as seen:
            again = second.test_client().get(URL, headers=headers)
        assert again.get_data() == body and _standard_reads(seen) == []
        with second.app_context():
            created = second.test_client().post("/api/v1/standards", headers=headers, json={
                "certificate_no": "[2025]赣量标证字第 902 号", "name": "丁另一标准", "category": "social_public",
                "institution_id": users.own.id, "issued_on": "2025-03-01"})
        assert created.status_code == 201
        with first.app_context():
            after = first.test_client().get(URL, headers=headers)
        assert json.loads(after.headers["X-Pagination"])["total"] == 6
        assert after.get_json()[0]["name"] == "丁另一标准"
    finally:
        for key in redis_client.keys(prefix + "*"):
            redis_client.delete(key)


def test_a_cache_that_is_down_costs_only_speed(app, client, auth, users, listed):
    from flask_caching.backends.rediscache import RedisCache

    headers = auth.token(users.regulator)
    expected = client.get(URL, headers=headers)
    with backend(app, RedisCache(host="127.0.0.1", port=1, key_prefix="registry-test-down:")):
        response = client.get(URL, headers=headers)
    assert response.status_code == 200 and response.get_data() == expected.get_data()
    assert response.headers["ETag"] == expected.headers["ETag"]
