"""Who could close a gap: known answers on a hand-built province.

Line W (weighing, discipline 12) has no covering standard in 九江 (360400);
南昌 (360100) is 九江's only neighbour here (the test's own adjacency)::

    institution          where                        holds                                   reason
    sealed_two           九江                          2 sealed social public W                lapsed (2)
    lapsed_late          九江's county                 1 social public W expired AS_OF-1       lapsed (1, latest)
    provincial           南昌, serves the province     1 social public W expired AS_OF-400     lapsed (1)
    enterprise           九江                          enterprise-highest W, valid             enterprise_highest
    nanchang             南昌                          covering W                              neighbour (360100)
    field                九江                          2 valid social public of discipline 12  discipline
    ganzhou              赣州 (not a neighbour)        covering W                              —
    revoked              九江                          revoked W                               —
    withdrawn            九江, withdrawn               expired W                               —
    lapsed_late also holds one valid discipline-12 standard: a second reason, ranked by its best.

Line T is covered nowhere: the province's gap; 赣州's institute holds an expired T.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.coverage import cache
from registry.coverage.candidates import gap_candidates, gaps_with_candidates
from registry.coverage.services import coverage_gaps
from registry.extensions import db
from registry.reference.models import RegionAdjacency
from tests import factories
from tests.coverage.support import AS_OF, DAY

JIUJIANG, NANCHANG, GANZHOU, PROVINCE = "360400", "360100", "360700", "360000"
COUNTY = "360481"


@pytest.fixture
def province(catalog):
    db.session.execute(sa.delete(RegionAdjacency))
    db.session.add(RegionAdjacency(region_code=NANCHANG, neighbour_code=JIUJIANG, confirmed=True, source="test"))
    factories.region(COUNTY, parent_code=JIUJIANG, level="county")
    w = factories.catalog_line(catalog, code="W", name="非自动衡器")
    t = factories.catalog_line(catalog, code="T", name="体温计")
    inst = {
        "sealed_two": factories.institution(name="甲·封存两项所", region_code=JIUJIANG),
        "lapsed_late": factories.institution(name="乙·县所", region_code=COUNTY),
        "provincial": factories.institution(name="丙·省院", region_code=NANCHANG, serves_region_code=PROVINCE),
        "enterprise": factories.institution(name="丁·企业", region_code=JIUJIANG, kind="enterprise"),
        "nanchang": factories.institution(name="戊·南昌所", region_code=NANCHANG),
        "field": factories.institution(name="己·力学所", region_code=JIUJIANG),
        "ganzhou": factories.institution(name="庚·赣州所", region_code=GANZHOU),
        "revoked": factories.institution(name="辛·撤销所", region_code=JIUJIANG),
        "withdrawn": factories.institution(name="壬·已撤回", region_code=JIUJIANG,
                                           withdrawn_at=factories.withdrawn_at()),
    }
    mech = dict(discipline_code="12")
    for _ in range(2):
        factories.standard(inst["sealed_two"], lines=[w], status="sealed", status_since=AS_OF - 30 * DAY, **mech)
    factories.standard(inst["lapsed_late"], lines=[w], issued_on=AS_OF - 1000 * DAY, valid_until=AS_OF - DAY,
                       **mech)
    factories.standard(inst["lapsed_late"], **mech)
    factories.standard(inst["provincial"], lines=[w], issued_on=AS_OF - 2000 * DAY, valid_until=AS_OF - 400 * DAY,
                       **mech)
    factories.standard(inst["enterprise"], lines=[w], category="enterprise_highest", **mech)
    factories.standard(inst["nanchang"], lines=[w], **mech)
    factories.standard(inst["field"], **mech)
    factories.standard(inst["field"], **mech)
    factories.standard(inst["field"], discipline_code="04")  # another discipline: not counted
    factories.standard(inst["ganzhou"], lines=[w], **mech)
    factories.standard(inst["revoked"], lines=[w], status="revoked", status_since=AS_OF - 30 * DAY, **mech)
    factories.standard(inst["withdrawn"], lines=[w], issued_on=AS_OF - 2000 * DAY, valid_until=AS_OF - 500 * DAY,
                       **mech)
    factories.standard(inst["ganzhou"], lines=[t], issued_on=AS_OF - 2000 * DAY, valid_until=AS_OF - 10 * DAY,
                       discipline_code="04")
    return {"lines": {"W": w, "T": t}, "inst": inst}


def _entry(result, region, line):
    return next(e for e in result.candidates if e.region == region and e.line_id == line.id)


def _ranked(entry):
    return [(c.rank, c.institution_name, c.reason) for c in entry.candidates]


def test_candidates_for_a_city_gap_ranked_with_their_reasons(province):
    result = gaps_with_candidates(AS_OF)
    entry = _entry(result, JIUJIANG, province["lines"]["W"])
    assert _ranked(entry) == [
        (1, "甲·封存两项所", "lapsed"),
        (2, "乙·县所", "lapsed"),
        (3, "丙·省院", "lapsed"),
        (4, "丁·企业", "enterprise_highest"),
        (5, "戊·南昌所", "neighbour"),
        (6, "己·力学所", "discipline"),
    ]
    assert entry.disciplines == ["12"] and entry.candidate_count == 6
    first, second, third = entry.candidates[:3]
    assert [(e.reason, e.standard_count) for e in first.evidence] == [("lapsed", 2)]
    # Two reasons: the best ranks it, both are given.
    assert [(e.reason, e.standard_count, e.detail) for e in second.evidence] == [
        ("lapsed", 1, None), ("discipline", 1, "12")]
    assert second.evidence[0].latest_valid_until == AS_OF - DAY
    assert third.evidence[0].latest_valid_until == AS_OF - 400 * DAY
    neighbour = entry.candidates[4]
    assert neighbour.evidence[0].detail == NANCHANG and neighbour.evidence[0].standard_count == 1
    assert entry.candidates[5].evidence[0].standard_count == 2
    assert result.neighbours_confirmed is True


def test_the_province_gap_has_no_neighbours_and_lists_holders_anywhere(province):
    result = gaps_with_candidates(AS_OF)
    entry = _entry(result, PROVINCE, province["lines"]["T"])
    # 己 holds a valid discipline-04 standard: anywhere in the province serves the province.
    assert _ranked(entry) == [(1, "庚·赣州所", "lapsed"), (2, "己·力学所", "discipline")]
    assert entry.disciplines == ["04"]
    # W is covered somewhere (南昌, 赣州): no province gap for it.
    assert all(e.line_id != province["lines"]["W"].id for e in result.candidates if e.region == PROVINCE)


def test_a_city_that_is_not_a_neighbour_gets_no_neighbour_candidate(province):
    result = gaps_with_candidates(AS_OF)
    # 萍乡 (360300) has a W gap; 南昌's and 赣州's holders are not its neighbours here; only the provincial
    # institute (serving the province) can act there.
    entry = _entry(result, "360300", province["lines"]["W"])
    assert _ranked(entry) == [(1, "丙·省院", "lapsed")]


def test_boundaries_a_certificate_on_its_last_day_covers_and_leaves_no_gap(province):
    lines, inst = province["lines"], province["inst"]
    factories.standard(inst["field"], lines=[lines["W"]], issued_on=AS_OF - 1000 * DAY, valid_until=AS_OF)
    assert not any(e.region == JIUJIANG and e.line_id == lines["W"].id
                   for e in gaps_with_candidates(AS_OF).candidates)
    # The next day it is lapsed and the gap is back, with 己 as a lapsed holder (ahead of its discipline).
    entry = _entry(gaps_with_candidates(AS_OF + DAY), JIUJIANG, lines["W"])
    assert ("己·力学所", "lapsed") in [(c.institution_name, c.reason) for c in entry.candidates]


def test_a_seal_dated_after_the_day_still_covers(province):
    lines, inst = province["lines"], province["inst"]
    factories.standard(inst["revoked"], lines=[lines["W"]], status="sealed", status_since=AS_OF + DAY)
    assert not any(e.region == JIUJIANG and e.line_id == lines["W"].id
                   for e in gaps_with_candidates(AS_OF).candidates)


def test_unconfirmed_neighbours_are_said_so(province):
    db.session.execute(sa.update(RegionAdjacency).values(confirmed=False))
    assert gaps_with_candidates(AS_OF).neighbours_confirmed is False


def test_gap_candidates_takes_the_gap_rows(province):
    gaps = coverage_gaps(AS_OF)
    found, _ = gap_candidates(gaps)
    pairs = [(gaps.region, line.id) for line in gaps.uncovered] + [
        (entry.region, line.id) for entry in gaps.by_region for line in entry.lines]
    assert [(e.region, e.line_id) for e in found] == pairs


def test_the_cached_result_revives_to_the_same_object(province):
    direct = gaps_with_candidates(AS_OF).to_dict()
    assert cache.result("gap_candidates", AS_OF, None).to_dict() == direct


def test_a_fixed_number_of_queries_whatever_the_gaps(province, app):
    from tests.statements import counted

    db.session.flush()
    with counted() as few:
        gaps_with_candidates(AS_OF)
    version = db.session.get(type(province["lines"]["W"].catalog_version), province["lines"]["W"].catalog_version_id)
    extra = factories.catalog_line(version, code="X", name="额外")
    for holder in province["inst"].values():
        factories.standard(holder, lines=[extra], issued_on=AS_OF - 2000 * DAY, valid_until=AS_OF - 5 * DAY)
    db.session.flush()
    with counted() as more:
        result = gaps_with_candidates(AS_OF)
    assert any(e.line_code == "X" and e.candidates for e in result.candidates)
    assert len(more) == len(few)


# --------------------------------------------------------------------------- the doors: API, CLI, dashboard

def test_the_api_adds_candidates_when_asked(client, auth, users, province, session):
    session.commit()
    headers = auth.token(users.regulator)
    plain = client.get(f"/api/v1/coverage/gaps?as_of={AS_OF}", headers=headers).get_json()
    assert plain["candidates"] == []  # not computed unless asked for
    body = client.get(f"/api/v1/coverage/gaps?as_of={AS_OF}&candidates=1", headers=headers).get_json()
    assert body == gaps_with_candidates(AS_OF).to_dict()
    entry = next(e for e in body["candidates"]
                 if e["region"] == JIUJIANG and e["line_id"] == province["lines"]["W"].id)
    assert [c["institution_name"] for c in entry["candidates"]][:2] == ["甲·封存两项所", "乙·县所"]
    assert client.get(f"/api/v1/coverage/gaps?candidates=1",
                      headers=auth.token(users.institution)).status_code == 403


def test_the_cli_lists_candidates_under_each_gap(runner, province, session):
    session.commit()
    result = runner.invoke(args=["coverage", "gaps", "--as-of", AS_OF.isoformat(), "--candidates"])
    assert result.exit_code == 0, result.output
    jiujiang = result.output[result.output.index("(360400)"):]
    jiujiang = jiujiang[:jiujiang.index("\n\n")]
    assert jiujiang.index("1. 甲·封存两项所") < jiujiang.index("2. 乙·县所") < jiujiang.index("6. 己·力学所")
    assert "持有该条目过期、封存或变更中的社会公用计量标准" in jiujiang  # REASON_LABELS, in Chinese by default
    assert "相邻地区已覆盖该条目 [360100]" in jiujiang
    without = runner.invoke(args=["coverage", "gaps", "--as-of", AS_OF.isoformat()])
    assert "甲·封存两项所" not in without.output
    as_json = runner.invoke(args=["coverage", "gaps", "--as-of", AS_OF.isoformat(), "--candidates", "--json"])
    import json

    assert json.loads(as_json.output) == gaps_with_candidates(AS_OF).to_dict()


def test_the_dashboard_gap_expands_to_its_candidates(client, auth, users, province, session):
    session.commit()
    auth.login_session(users.regulator)
    page = client.get(f"/dashboard?as_of={AS_OF}&region={JIUJIANG}").get_data(as_text=True)
    line = province["lines"]["W"]
    item = page[page.index(f'<li data-line="{line.id}">'):]
    item = item[:item.index("</details>")]
    assert "<details" in item and "<summary>" in item and "可补空白的机构 6 家" in item
    reasons = [r for r in __import__("re").findall(r'<li data-institution="\d+" data-reason="([a-z_]+)"', item)]
    assert reasons == ["lapsed", "lapsed", "lapsed", "enterprise_highest", "neighbour", "discipline"]
    assert item.index("甲·封存两项所") < item.index("乙·县所") < item.index("丙·省院")
    assert "在相邻的南昌市覆盖该条目" in item
    client.get("/lang/en")
    page = client.get(f"/dashboard?as_of={AS_OF}&region={JIUJIANG}").get_data(as_text=True)
    assert "6 institutions could close it" in page and "Covers the line in neighbouring Nanchang" in page
