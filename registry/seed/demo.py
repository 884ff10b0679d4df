"""A deterministic demo province: invented records, each flagged ``is_demo``.

Every name carries 演示 (demo) and every certificate and registration number
is visibly fake, so no demo row can pass for an official record.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from registry.catalog.models import CatalogLine
from registry.records.codes import CREDIT_CODE_ALPHABET, credit_code_check_char
from registry.extensions import db
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Region
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard, standard_catalog_lines, standard_regulations

# The demo is laid out around a fixed date so it is the same on every machine.
ANCHOR = date(2026, 11, 1)

# (name, discipline, catalog line names it serves, typical range, uncertainty)
STANDARD_TEMPLATES = [
    ("医用电子体温计检定装置", "04", ["体温计"], "(35~42) ℃", "U=0.03 ℃, k=2"),
    ("二等铂电阻温度计标准装置", "04", [], "(-60~420) ℃", "U=0.02 ℃, k=2"),
    ("工作用热电偶检定装置", "04", [], "(300~1200) ℃", "U=1.2 ℃, k=2"),
    ("E2等级砝码标准装置", "12", ["非自动衡器", "电子计价秤"], "(1 mg~20 kg)", "E2级"),
    ("F1等级砝码标准装置", "12", ["非自动衡器", "电子计价秤"], "(1 mg~500 kg)", "F1级"),
    ("自动衡器检定装置", "12", ["自动衡器"], "(0~60) t", "MPE: ±0.1%"),
    ("称重传感器检定装置", "12", ["称重传感器"], "(0~50) kN", "0.03级"),
    ("燃油加油机检定装置", "12", ["燃油加油机", "流量计"], "(5~100) L/min", "U=0.025%, k=2"),
    ("液体流量标准装置", "12", ["流量计"], "(0.1~300) m³/h", "U=0.05%, k=2"),
    ("水表检定装置", "12", ["水表"], "(0.01~80) m³/h", "U=0.2%, k=2"),
    ("膜式燃气表检定装置", "12", ["燃气表"], "(0.016~16) m³/h", "U=0.3%, k=2"),
    ("血压计（表）检定装置", "12", ["血压计（表）"], "(0~40) kPa", "MPE: ±0.1 kPa"),
    ("活塞式压力计标准装置", "12", [], "(0.04~60) MPa", "0.02级"),
    ("电能表检定装置", "15", ["电能表"], "(0~100) A", "0.05级"),
    ("电动汽车充电桩检定装置", "15", ["电动汽车充电桩"], "(0~750) V", "0.05级"),
    ("数字多用表检定装置", "15", [], "(0~1000) V", "U=20 μV/V, k=2"),
    ("机动车雷达测速仪检定装置", "23", ["机动车测速仪"], "(20~200) km/h", "MPE: ±0.5 km/h"),
    ("声级计检定装置", "33", ["声级计"], "(20~140) dB", "U=0.3 dB, k=2"),
    ("验光仪检定装置", "28", ["验光仪"], "(-25~25) m⁻¹", "U=0.06 m⁻¹, k=2"),
    ("透射式烟度计检定装置", "28", ["透射式烟度计"], "(0~100) %", "U=1.0 %, k=2"),
    ("可燃气体检测报警器检定装置", "46", ["有毒有害易燃易爆气体检测（报警）仪"], "(0~100) %LEL", "U=2 %, k=2"),
    ("水分测定仪检定装置", "46", ["水分测定仪"], "(0~30) %", "U=0.3 %, k=2"),
    ("量块标准装置", "01", [], "(0.5~100) mm", "3等"),
    ("频率计检定装置", "25", [], "(1 Hz~40 GHz)", "U=1×10⁻¹⁰, k=2"),
]

CITY_SHORT = {
    "360100": "南昌", "360200": "景德镇", "360300": "萍乡", "360400": "九江", "360500": "新余",
    "360600": "鹰潭", "360700": "赣州", "360800": "吉安", "360900": "宜春", "361000": "抚州",
    "361100": "上饶",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力春晓晨宇浩然欣怡子轩梓涵"
REG_TOPICS = [
    "稀土元素分析仪", "瓷器热膨胀仪", "竹材含水率测定仪", "柑橘糖度计", "茶叶水分测定仪", "铜冶炼在线分析仪",
    "光伏组件测试仪", "锂电池充放电测试仪", "碳排放连续监测系统", "能耗在线监测终端", "电子汽车衡远程监控装置",
    "出租车计价器", "智能燃气表", "超声波热量表", "医用血氧饱和度仪", "混凝土回弹仪", "粮食水分测定仪",
    "液化石油气钢瓶充装秤", "农药残留速测仪", "电梯限速器测试仪",
]


def _credit_code(rng: random.Random, region: str, entity: str) -> str:
    body = entity + region + "D" + "".join(rng.choice(CREDIT_CODE_ALPHABET[:10]) for _ in range(8))
    return body + credit_code_check_char(body)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load_demo_data(*, seed: int = 20251231, institutions_per_city: int = 30,
                   standards_per_institution: int = 10, validity_years: int = 4) -> dict[str, int]:
    """Create the demo province.  Call only on an empty registry."""
    rng = random.Random(seed)
    session = db.session
    cities = list(session.scalars(sa.select(Region.code).where(Region.level == "city").order_by(Region.code)))
    lines = {line.name: line.id for line in session.scalars(sa.select(CatalogLine))}

    institutions = []
    for city in cities:
        short = CITY_SHORT.get(city, city)
        for n in range(institutions_per_city):
            if n == 0:
                kind, name, entity = "legal_metrology", f"{short}市计量检定测试所（演示）", "12"
            elif n < 3:
                kind, name, entity = "legal_metrology", f"{short}市第{n + 1}计量检定站（演示）", "12"
            elif n < 6:
                kind, name, entity = "authorised", f"{short}市授权计量技术机构{n - 2}号（演示）", "12"
            else:
                kind, name, entity = rng.choice([
                    ("enterprise", f"{short}演示制造有限公司{n:02d}", "91"),
                    ("enterprise", f"{short}演示能源集团{n:02d}分公司", "91"),
                    ("public_institution", f"{short}市演示医院{n:02d}", "12"),
                    ("other", f"{short}演示检测中心{n:02d}", "52"),
                ])
            institutions.append(dict(
                credit_code=_credit_code(rng, city, entity), name=name, region_code=city, kind=kind,
                contact=_person_name(rng), phone=f"0791-{rng.randint(80000000, 89999999)}", is_demo=True,
            ))
    session.execute(sa.insert(Institution), institutions)
    inst_rows = session.execute(
        sa.select(Institution.id, Institution.kind, Institution.region_code).where(Institution.is_demo.is_(True))
    ).all()

    regulations = []
    for i in range(70):
        series = "JJG" if i % 3 else "JJF"
        year = 2014 + i % 12
        published = date(year, 1 + i % 12, 1 + i % 27)
        if published > ANCHOR or i % 11 == 0:
            status, published_on, implemented = ("planned" if i % 2 else "drafting"), None, None
        elif i % 17 == 0:
            status, published_on, implemented = "abolished", published, published + timedelta(days=90)
        else:
            status, published_on = "published", published
            implemented = published + timedelta(days=90)
            if implemented <= ANCHOR:
                status = "implemented"
        topic = REG_TOPICS[i % len(REG_TOPICS)]
        regulations.append(dict(
            code=f"{series}(赣) {100 + i}-{year}", series=series, province="赣", number=str(100 + i), year=year,
            title=f"（演示）{topic}{'检定规程' if series == 'JJG' else '校准规范'}",
            kind="verification_regulation" if series == "JJG" else "calibration_specification",
            level="local", status=status, published_on=published_on, implemented_on=implemented,
            abolished_on=(published + timedelta(days=1500)) if status == "abolished" else None,
            is_urgent=i % 4 != 0, is_carbon=topic in ("碳排放连续监测系统", "能耗在线监测终端", "光伏组件测试仪", "锂电池充放电测试仪"),
            is_demo=True,
        ))
    session.execute(sa.insert(Regulation), regulations)
    regulation_ids = list(session.scalars(sa.select(Regulation.id).where(Regulation.is_demo.is_(True))))

    standards, covers = [], []
    serial = 0
    for inst_id, kind, region in inst_rows:
        count = standards_per_institution * (3 if kind == "legal_metrology" else 1)
        for _ in range(count):
            serial += 1
            name, discipline, line_names, range_text, uncertainty = rng.choice(STANDARD_TEMPLATES)
            # Most certificates are current; some lapsed, some about to.
            age_days = rng.randint(0, validity_years * 365 + 400)
            issued = ANCHOR - timedelta(days=age_days)
            valid_until = date(issued.year + validity_years, issued.month, min(issued.day, 28)) - timedelta(days=1)
            status = rng.choices(["in_use", "sealed", "revoked", "changing"], [94, 3, 2, 1])[0]
            category = "social_public" if kind in ("legal_metrology", "authorised") else rng.choice(
                ["enterprise_highest", "enterprise_highest", "department_highest"])
            carbon = discipline in ("04", "15", "46") and rng.random() < 0.1
            standards.append(dict(
                certificate_no=f"[{issued.year}]赣量标演示证字第{serial:05d}号",
                name=name, code=f"{discipline}{rng.randint(10, 99)}{rng.randint(10, 99)}{rng.randint(10, 99)}",
                category=category, discipline_code=discipline, institution_id=inst_id,
                range_text=range_text, uncertainty_text=uncertainty,
                issuer=f"{CITY_SHORT.get(region, '')}市市场监督管理局（演示）" if category == "social_public" else "江西省市场监督管理局（演示）",
                issued_on=issued, valid_until=valid_until, responsible_person=_person_name(rng),
                status=status, status_since=None if status == "in_use" else issued + timedelta(days=rng.randint(30, 700)),
                is_carbon=carbon, build_kind=("new" if rng.random() < 0.6 else "renovated") if carbon else None,
                built_on=issued if carbon else None, is_demo=True,
            ))
            covers.append([lines[n] for n in line_names if n in lines])
    session.execute(sa.insert(MeasurementStandard), standards)
    from registry.standards.services import record_current_certificates

    session.execute(record_current_certificates(lambda column: column.in_(
        sa.select(MeasurementStandard.id).where(MeasurementStandard.is_demo.is_(True)))))
    ids = list(session.scalars(
        sa.select(MeasurementStandard.id).where(MeasurementStandard.is_demo.is_(True)).order_by(MeasurementStandard.id)
    ))
    pairs = [{"standard_id": sid, "catalog_line_id": lid} for sid, line_ids in zip(ids, covers) for lid in line_ids]
    if pairs:
        session.execute(sa.insert(standard_catalog_lines), pairs)
    applied = [{"standard_id": sid, "regulation_id": rng.choice(regulation_ids)} for sid in ids if rng.random() < 0.3]
    if applied:
        session.execute(sa.insert(standard_regulations), applied)

    people = []
    reg_serial = 0
    for inst_id, kind, region in inst_rows:
        staff = rng.randint(25, 45) if kind == "legal_metrology" else rng.randint(3, 12)
        for _ in range(staff):
            employed_from = ANCHOR - timedelta(days=rng.randint(30, 9000))
            employed_until = None
            if rng.random() < 0.08:
                employed_until = employed_from + timedelta(days=rng.randint(200, 3000))
            person = dict(name=_person_name(rng) + "（演示）", institution_id=inst_id, employed_from=employed_from,
                          employed_until=employed_until, is_demo=True)
            if rng.random() < (0.58 if kind == "legal_metrology" else 0.3):
                reg_serial += 1
                registered = max(employed_from, ANCHOR - timedelta(days=rng.randint(0, 6 * 365)))
                person.update(
                    registration_no=f"演示注册-{reg_serial:06d}",
                    registration_level=rng.choice(["1", "2", "2"]),
                    registration_items=rng.sample(["热学", "力学", "电磁学", "几何量", "化学", "声学"], 2),
                    registered_on=registered,
                    registration_valid_until=date(registered.year + 5, registered.month, min(registered.day, 28)) - timedelta(days=1),
                )
            people.append(person)
    # Rows have different keys; insert the two shapes separately.
    with_reg = [p for p in people if "registration_no" in p]
    without = [p for p in people if "registration_no" not in p]
    if with_reg:
        session.execute(sa.insert(Person), with_reg)
    if without:
        session.execute(sa.insert(Person), without)
    session.flush()
    return {
        "institutions": len(institutions),
        "regulations": len(regulations),
        "standards": len(standards),
        "catalog_links": len(pairs),
        "persons": len(people),
    }


DEMO_ACCOUNTS = (
    ("admin", "admin@demo.invalid"),
    ("regulator", "regulator@demo.invalid"),
    ("institution", "institution@demo.invalid"),
)


def create_demo_accounts() -> dict[str, str]:
    """One demo account per role, each with a fresh random password; returns email → password.

    The institution account belongs to the first demo legal metrology institution.
    Accounts that exist already are left alone (and not listed).  The passwords
    are random so a demo database never opens with a known password.
    """
    import secrets

    from registry.auth.models import User
    from registry.auth.services import create_user

    holder = db.session.scalar(sa.select(Institution).where(Institution.is_demo.is_(True),
                                                            Institution.kind == "legal_metrology")
                               .order_by(Institution.id).limit(1))
    created = {}
    for role, email in DEMO_ACCOUNTS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            continue
        if role == "institution" and holder is None:
            continue
        password = "Demo-" + secrets.token_urlsafe(12)
        create_user(email=email, password=password, role=role,
                    credit_code=holder.credit_code if role == "institution" else None,
                    display_name=f"演示{role}", actor=None)
        created[email] = password
    return created
