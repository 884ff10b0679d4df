"""Reference data shipped with the registry, loaded idempotently.

Sources are in ``../shared``-derived README section "Reference data": GB/T 2260
(province and prefecture-level cities of Jiangxi), JJF 1022-2014 level-1
codes, the confirmed part of the 2020 mandatory-verification catalog, and the
province's 2025 targets.  Nothing here is invented; what could not be
confirmed is marked so and is data a regulator can correct.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from registry.catalog.models import CatalogLine, CatalogVersion
from registry.extensions import db
from registry.indicators.models import Indicator, Plan, PlanTarget
from registry.reference.models import Discipline, ReferenceDataset, Region, RegionAdjacency

REGION_TABLE_VERSION = "GB/T 2260 江西省及设区市代码（2019年湾里区并入新建区后）"
REGIONS = [
    ("360000", "江西省", "Jiangxi Province", "province", None),
    ("360100", "南昌市", "Nanchang", "city", "360000"),
    ("360200", "景德镇市", "Jingdezhen", "city", "360000"),
    ("360300", "萍乡市", "Pingxiang", "city", "360000"),
    ("360400", "九江市", "Jiujiang", "city", "360000"),
    ("360500", "新余市", "Xinyu", "city", "360000"),
    ("360600", "鹰潭市", "Yingtan", "city", "360000"),
    ("360700", "赣州市", "Ganzhou", "city", "360000"),
    ("360800", "吉安市", "Ji'an", "city", "360000"),
    ("360900", "宜春市", "Yichun", "city", "360000"),
    ("361000", "抚州市", "Fuzhou (Jiangxi)", "city", "360000"),
    ("361100", "上饶市", "Shangrao", "city", "360000"),
]

# Which cities share a border: GB/T 2260 does not say, and no official list was at hand.  These pairs were
# compiled for this project from general knowledge of the province's map and are NOT confirmed: each is
# stored with confirmed = false, the gap candidates say so, and a regulator should check them against the
# provincial administrative map (景德镇–九江 and 抚州–上饶 are the least certain).
ADJACENCY_VERSION = "江西省设区市相邻关系（未核实）"
ADJACENCY_SOURCE = "未核实：本项目据地图常识整理，待对照江西省行政区划图确认 / not confirmed: compiled from general map knowledge"
CITY_ADJACENCY = [
    ("360100", "360400"), ("360100", "360900"), ("360100", "361000"), ("360100", "361100"),
    ("360200", "360400"), ("360200", "361100"),
    ("360300", "360800"), ("360300", "360900"),
    ("360400", "360900"), ("360400", "361100"),
    ("360500", "360800"), ("360500", "360900"),
    ("360600", "361000"), ("360600", "361100"),
    ("360700", "360800"), ("360700", "361000"),
    ("360800", "360900"), ("360800", "361000"),
    ("360900", "361000"),
    ("361000", "361100"),
]

DISCIPLINES = [
    ("01", "几何量", "Length", "discipline"),
    ("04", "热学", "Thermal", "discipline"),
    ("12", "力学", "Mechanics", "discipline"),
    ("15", "电磁学", "Electromagnetism", "discipline"),
    ("23", "无线电", "Radio", "discipline"),
    ("25", "时间频率", "Time and frequency", "discipline"),
    ("28", "光学", "Optics", "discipline"),
    ("33", "声学", "Acoustics", "discipline"),
    ("37", "电离辐射", "Ionising radiation", "discipline"),
    ("46", "物理化学", "Physical chemistry", "discipline"),
    ("51", "纺织", "Textiles", "sector"),
    ("53", "铁路", "Railways", "sector"),
    ("55", "气象", "Meteorology", "sector"),
    ("57", "海洋", "Marine", "sector"),
    ("59", "邮电", "Posts and telecommunications", "sector"),
    ("61", "交通运输", "Transport", "sector"),
    ("63", "建材", "Building materials", "sector"),
    ("65", "农林牧渔", "Agriculture, forestry, husbandry and fishery", "sector"),
]

CATALOG_NAME = "市场监管总局公告2020年第42号（部分，已核实条目）"
CATALOG_DESCRIPTION = (
    "部分目录：仅含公开报道中已核实的强检项目，目录声明共62条，其余条目未收录；"
    "条目序号为本系统编号，不是官方序号；各条目的监管方式（V 或 P+V）未逐条核实，统一记为 V。"
    "生效日期记为2020-01-01，未核实。请由监管部门导入官方目录替换。\n"
    "Partial catalog: only items confirmed in public reporting. The announcement declares 62 "
    "lines; the rest are not loaded. Line codes are this registry's own, not the official "
    "numbering; each line's mode (V or P+V) was not verified line by line and is recorded as V. "
    "The effective date 2020-01-01 is a placeholder (not verified). "
    "A regulator should import the official list to replace it."
)
# (code, first-level name, second-level name, effective_from)
CONFIRMED_LINES = [
    ("S01", "体温计", None, None),
    ("S02", "非自动衡器", None, None),
    ("S03", "自动衡器", None, None),
    ("S04", "称重传感器", None, None),
    ("S05", "流量计", None, None),
    ("S06", "机动车测速仪", None, None),
    ("S07", "声级计", None, None),
    ("S08", "水分测定仪", None, None),
    ("S09", "透射式烟度计", None, None),
    ("S10", "有毒有害易燃易爆气体检测（报警）仪", None, None),
    ("S11", "电子计价秤", None, None),
    ("S12", "燃油加油机", None, None),
    ("S13", "燃气表", None, None),
    ("S14", "水表", None, None),
    ("S15", "电能表", None, None),
    ("S16", "血压计（表）", None, None),
    ("S17", "验光仪", None, None),
    ("S18", "电动汽车充电桩", None, date(2023, 1, 1)),
]
LINE_NOTE = "已核实为强检项目；监管方式与层级未逐条核实 / confirmed mandatory item; mode and level not verified"

TARGET_SOURCE = "江西省市场监管局 2023-05-20 世界计量日公开表述；赣府发〔2022〕24号"
# The first plan; later plans (2026–2030 …) are data a regulator adds, never code.
PLAN_2025 = ("2021–2025", TARGET_SOURCE, date(2021, 1, 1), date(2025, 12, 31))
# key, Chinese name, English name, kind, source, comparator, target, target_max
INDICATORS = [
    ("social_public_standards", "社会公用计量标准数量", "Social public measurement standards", "count", "registry", ">=", 1800, None),
    ("mandatory_item_coverage", "强检项目建标覆盖率", "Mandatory-verification item coverage", "ratio", "registry", ">=", Decimal("0.90"), None),
    ("registered_metrologist_share", "法定计量机构注册计量师占比", "Registered metrologists among legal metrology staff", "ratio", "registry", ">=", Decimal("0.60"), None),
    ("local_regulations", "地方急需检定规程/规范", "Local verification regulations and specifications", "count", "registry", ">=", 60, None),
    ("national_industrial_centers", "国家产业计量测试中心", "National industrial metrology test centres", "count", "recorded", ">=", 1, None),
    ("provincial_industrial_centers", "省级产业计量测试中心", "Provincial industrial metrology test centres", "count", "recorded", ">=", 5, None),
    ("type_evaluation_labs", "国家型式评价实验室", "National type-evaluation laboratories", "count", "recorded", ">=", 1, None),
    ("integrity_units", "诚信计量示范单位", "Integrity-in-metrology demonstration units", "count", "recorded", ">=", 5000, None),
    ("carbon_standards", "双碳计量标准（新建或改造）", "Carbon metrology standards built or renovated", "count", "registry", ">=", 50, None),
    ("carbon_specifications", "双碳计量技术规范（制修订）", "Carbon metrology technical specifications", "count", "registry", ">=", 10, None),
    ("carbon_industrial_centers", "双碳省级产业计量测试中心", "Carbon provincial industrial metrology test centres", "count", "recorded", ">=", 3, None),
    ("carbon_reference_materials", "双碳标准物质/样品研制", "Carbon reference materials developed", "count", "recorded", ">=", 10, None),
    ("carbon_pilots", "双碳标准化计量试点单位", "Carbon standardisation and metrology pilot units", "count", "recorded", "between", 3, 5),
]


def load_reference_data(*, plan_start: date) -> dict[str, int]:
    """Insert whatever reference rows are missing; never overwrite user edits."""
    added = {"regions": 0, "region_adjacency": 0, "disciplines": 0, "catalog_lines": 0, "indicators": 0, "plans": 0,
             "targets": 0}
    session = db.session

    existing = set(session.scalars(sa.select(Region.code)))
    for code, name, name_en, level, parent in REGIONS:
        if code not in existing:
            session.add(Region(code=code, name=name, name_en=name_en, level=level,
                               parent_code=parent, table_version=REGION_TABLE_VERSION))
            added["regions"] += 1
            session.flush()
    _dataset("regions", REGION_TABLE_VERSION, "GB/T 2260; domain reference (shared/domain.md)")

    existing = {tuple(row) for row in session.execute(
        sa.select(RegionAdjacency.region_code, RegionAdjacency.neighbour_code))}
    for pair in CITY_ADJACENCY:
        if pair not in existing:
            session.add(RegionAdjacency(region_code=pair[0], neighbour_code=pair[1], confirmed=False,
                                        source=ADJACENCY_SOURCE))
            added["region_adjacency"] += 1
    _dataset("region_adjacency", ADJACENCY_VERSION, ADJACENCY_SOURCE)

    existing = set(session.scalars(sa.select(Discipline.code)))
    for code, name, name_en, kind in DISCIPLINES:
        if code not in existing:
            session.add(Discipline(code=code, name=name, name_en=name_en, kind=kind))
            added["disciplines"] += 1
    _dataset("disciplines", "JJF 1022-2014", "JJF 1022-2014 计量标准命名与分类编码, level-1 codes")

    version = session.scalar(sa.select(CatalogVersion).where(CatalogVersion.name == CATALOG_NAME))
    if version is None:
        version = CatalogVersion(
            name=CATALOG_NAME,
            source_document="市场监管总局公告2020年第42号《实施强制管理的计量器具目录》",
            # The announcement's exact effective date was not confirmed.
            effective_from=date(2020, 1, 1),
            declared_line_count=62,
            is_partial=True,
            description=CATALOG_DESCRIPTION,
        )
        session.add(version)
        session.flush()
        for code, name, sub_name, effective_from in CONFIRMED_LINES:
            session.add(CatalogLine(
                catalog_version_id=version.id, code=code, name=name, sub_name=sub_name,
                mode="V", verification_form=None, scope_note=LINE_NOTE, effective_from=effective_from,
            ))
            added["catalog_lines"] += 1

    existing = set(session.scalars(sa.select(Indicator.key)))
    new_keys = []
    for position, (key, name, name_en, kind, source, *_) in enumerate(INDICATORS):
        if key in existing:
            continue
        session.add(Indicator(
            key=key, name=name, name_en=name_en, kind=kind, source=source,
            counts_from=plan_start if key.startswith("carbon_") else None,
            source_document=TARGET_SOURCE, position=position,
        ))
        new_keys.append(key)
        added["indicators"] += 1
    session.flush()

    # The 2021–2025 plan and its province targets, on a first seed (and for indicators new to it).
    plan_name, plan_source, starts_on, deadline = PLAN_2025
    plan = session.scalar(sa.select(Plan).where(Plan.name == plan_name))
    if plan is None and session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0:
        plan = Plan(name=plan_name, source_document=plan_source, starts_on=starts_on, deadline=deadline)
        session.add(plan)
        session.flush()
        added["plans"] += 1
        new_keys = [row[0] for row in INDICATORS]
    if plan is not None:
        province = REGIONS[0][0]
        for key, _name, _en, _kind, _source, comparator, target, target_max in INDICATORS:
            if key not in new_keys:
                continue
            if session.scalar(sa.select(PlanTarget.id).where(PlanTarget.plan_id == plan.id,
                                                             PlanTarget.indicator_key == key,
                                                             PlanTarget.region_code == province)) is None:
                session.add(PlanTarget(plan_id=plan.id, indicator_key=key, region_code=province,
                                       comparator=comparator, target=Decimal(target),
                                       target_max=None if target_max is None else Decimal(target_max)))
                added["targets"] += 1
    session.flush()
    return added


def _dataset(name: str, version: str, source: str) -> None:
    row = db.session.get(ReferenceDataset, name)
    if row is None:
        db.session.add(ReferenceDataset(name=name, version=version, source=source))
    elif row.version != version:
        row.version, row.source = version, source
