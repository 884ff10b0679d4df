"""The workbook format: sheets, columns, and the labels people type for each code.

One table serves every direction: reading (header matching, cell
conversion), templates (headers, dropdowns) and exports (labels), so a value
written by an export is always read back as the same value.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.catalog.models import VERIFICATION_FORMS
from registry.institutions.models import INSTITUTION_KIND_LABELS
from registry.personnel.models import LEVEL_LABELS
from registry.regulations.models import REGULATION_KINDS, REGULATION_LEVELS, REGULATION_STATUSES
from registry.standards.models import BUILD_KINDS, CATEGORY_LABELS, STATUS_LABELS

# Each enumeration: code -> (label written in exports and dropdowns, other spellings accepted).
ENUMS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "institution_kind": {
        code: (zh, (en,)) for code, (zh, en) in INSTITUTION_KIND_LABELS.items()
    },
    "standard_category": {
        "social_public": ("社会公用", CATEGORY_LABELS["social_public"] + ("社会公用标准",)),
        "department_highest": ("部门最高", CATEGORY_LABELS["department_highest"] + ("部门最高标准",)),
        "enterprise_highest": ("企事业最高", CATEGORY_LABELS["enterprise_highest"]
                               + ("企事业单位最高", "企业最高", "企事业最高标准")),
    },
    "standard_status": {
        code: (zh, (en,) + (("变更",) if code == "changing" else ())) for code, (zh, en) in STATUS_LABELS.items()
    },
    "build_kind": {"new": ("新建", ("New",)), "renovated": ("改造", ("Renovated",))},
    "regulation_kind": {
        "verification_regulation": ("检定规程", ("Verification regulation",)),
        "calibration_specification": ("校准规范", ("Calibration specification",)),
        "technical_specification": ("技术规范", ("Technical specification",)),
    },
    "regulation_level": {"national": ("国家", ("国家级", "National")), "local": ("地方", ("地方级", "Local"))},
    "regulation_status": {
        "planned": ("计划", ("计划中", "已立项", "Planned")),
        "drafting": ("起草中", ("起草", "Drafting")),
        "published": ("已发布", ("发布", "Published")),
        "implemented": ("已实施", ("实施", "Implemented")),
        "abolished": ("已废止", ("废止", "Abolished")),
    },
    "registration_level": {
        code: (zh[:2], (zh, en, f"{code}级")) for code, (zh, en) in LEVEL_LABELS.items()
    },
    "comparator": {
        ">=": ("≥", (">=", "不低于", "至少", "At least")),
        "<=": ("≤", ("<=", "不高于", "至多", "At most")),
        "=": ("=", ("==", "等于", "Equal")),
        "between": ("区间", ("between", "范围", "Range")),
    },
    "verification_form": {
        "first_only": ("首次检定", ("只作首次强制检定", "首次强制检定", "First verification only")),
        "periodic": ("周期检定", ("周期强制检定", "Periodic")),
    },
}
# The model's codes each enumeration must cover (checked by the tests).
ENUM_CODES = {
    "regulation_kind": REGULATION_KINDS, "regulation_level": REGULATION_LEVELS,
    "regulation_status": REGULATION_STATUSES, "build_kind": BUILD_KINDS, "verification_form": VERIFICATION_FORMS,
}

YES, NO = "是", "否"
SUPERVISION_MODES = ("P", "V", "P+V")


def normalize_label(text: object) -> str:
    """Fold full-width characters, drop spaces and underscores, ignore case."""
    folded = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"[\s_]+", "", folded).casefold()


_REQUIRED_MARK = re.compile(r"(\*|\(必填\)|\(required\))+$")


def normalize_header(text: object) -> str:
    """A header as matched: folded, and without a trailing ``*`` or ``（必填）``."""
    label = normalize_label(text)
    return _REQUIRED_MARK.sub("", label).lstrip("*")


@dataclass(frozen=True)
class Column:
    """One column: canonical Chinese header, English alias, the service field it fills."""

    header: str
    alias: str
    field: str
    kind: str = "text"  # text, date, bool, enum, multi, mode; derived: written by exports, ignored on import
    required: bool = False
    enum: str | None = None
    width: int = 14
    note: str = ""

    @property
    def label(self) -> str:
        """The header as written in templates and exports (``*`` marks a required column)."""
        return self.header + ("*" if self.required else "")

    def enum_lookup(self) -> dict[str, str]:
        """Normalised label or code -> code."""
        lookup: dict[str, str] = {}
        for code, (label, others) in ENUMS[self.enum].items():
            for spelling in (code, label, *others):
                lookup[normalize_label(spelling)] = code
        return lookup


@dataclass(frozen=True)
class Sheet:
    kind: str
    title: str
    title_en: str
    columns: tuple[Column, ...]
    key_fields: tuple[str, ...]
    matchers: dict[str, Column] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for column in self.columns:
            for name in (column.header, column.alias):
                self.matchers[normalize_header(name)] = column

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


DEMO = Column("演示", "demo", "is_demo", "bool", width=6,
              note="演示数据（虚构）标记为“是” / 'yes' marks invented demo records")

INSTITUTIONS = Sheet("institutions", "机构", "institutions", (
    Column("统一社会信用代码", "credit_code", "credit_code", required=True, width=22),
    Column("机构名称", "name", "name", required=True, width=30),
    Column("所属地区", "region", "region_code", required=True, width=12, note="地区名称或代码 / region name or code"),
    Column("机构类型", "kind", "kind", "enum", required=True, enum="institution_kind", width=18),
    Column("联系人", "contact", "contact"),
    Column("联系电话", "phone", "phone", width=16),
    DEMO,
    Column("服务区域", "serves_region", "serves_region_code", width=12,
           note="留空为所属地区；省级机构填全省（地区名称或代码） / blank: its own region; a provincial institute: the "
                "province (region name or code)"),
), key_fields=("credit_code",))

STANDARDS = Sheet("standards", "计量标准", "standards", (
    Column("证书编号", "certificate_no", "certificate_no", required=True, width=28),
    Column("计量标准名称", "name", "name", required=True, width=28),
    Column("计量标准代码", "code", "code", width=12, note="JJF 1022 八位代码 / 8-digit JJF 1022 code"),
    Column("类别", "category", "category", "enum", required=True, enum="standard_category", width=12),
    Column("建标单位统一社会信用代码", "institution", "institution_id", required=True, width=22),
    Column("专业", "discipline", "discipline_code", width=10, note="名称或两位代码 / name or 2-digit code"),
    Column("测量范围", "range", "range_text", width=18),
    Column("不确定度/准确度等级/最大允许误差", "uncertainty", "uncertainty_text", width=20),
    Column("发证机关", "issuer", "issuer", width=22),
    Column("发证日期", "issued_on", "issued_on", "date", required=True, width=12),
    Column("有效期至", "valid_until", "valid_until", "date", required=True, width=12),
    Column("状态", "status", "status", "enum", enum="standard_status", width=10),
    Column("状态日期", "status_since", "status_since", "date", width=12,
           note="状态生效的日期；封存、撤销、变更中未填日期的标准在任何日期都不计为在用 / the date the status took "
                "effect; a sealed, revoked or changing standard without it counts as in use on no date"),
    Column("覆盖强检项目", "catalog_lines", "catalog_line_ids", "multi", width=20,
           note="目录序号或一级/二级名称，多个用；分隔 / line codes or names, separated by ；"),
    Column("依据规程", "regulations", "regulation_ids", "multi", width=20,
           note="规程编号，多个用；分隔 / regulation codes, separated by ；"),
    Column("双碳相关", "carbon", "is_carbon", "bool", width=8),
    Column("新建/改造", "built", "build_kind", "enum", enum="build_kind", width=8),
    Column("新建/改造日期", "built_on", "built_on", "date", width=12),
    DEMO,
    Column("证书有效性（导出日）", "validity", "validity", "derived", width=12,
           note="导出当日按状态、状态日期和证书日期得出，导入时忽略 / on the export date, from the status, its date and "
                "the certificate's dates; ignored on import"),
), key_fields=("certificate_no",))

REGULATIONS = Sheet("regulations", "检定规程", "regulations", (
    Column("编号", "code", "code", required=True, width=20, note="如 JJG(赣) 123-2024 / e.g. JJG(赣) 123-2024"),
    Column("名称", "title", "title", required=True, width=30),
    Column("类型", "kind", "kind", "enum", enum="regulation_kind", width=12),
    Column("级别", "level", "level", "enum", enum="regulation_level", width=8),
    Column("状态", "status", "status", "enum", enum="regulation_status", width=10),
    Column("发布日期", "published_on", "published_on", "date", width=12),
    Column("实施日期", "effective_on", "implemented_on", "date", width=12),
    Column("废止日期", "abolished_on", "abolished_on", "date", width=12),
    Column("急需", "urgent", "is_urgent", "bool", width=6),
    Column("双碳相关", "carbon", "is_carbon", "bool", width=8),
    DEMO,
), key_fields=("code",))

PERSONNEL = Sheet("personnel", "人员", "personnel", (
    Column("姓名", "name", "name", required=True, width=12),
    Column("所在机构统一社会信用代码", "institution", "institution_id", required=True, width=22),
    Column("入职日期", "employed_from", "employed_from", "date", width=12),
    Column("离职日期", "employed_until", "employed_until", "date", width=12),
    Column("注册证号", "registration_no", "registration_no", width=18),
    Column("级别", "level", "registration_level", "enum", enum="registration_level", width=8),
    Column("注册专业", "items", "registration_items", "multi", width=18,
           note="多个用；分隔 / separated by ；"),
    Column("注册日期", "registered_on", "registered_on", "date", width=12),
    Column("注册有效期至", "registration_valid_until", "registration_valid_until", "date", width=12),
    DEMO,
), key_fields=("registration_no",))

CATALOG = Sheet("catalog", "强检目录", "catalog", (
    Column("序号", "code", "code", required=True, width=8),
    Column("一级名称", "name", "name", required=True, width=24),
    Column("二级名称", "sub_name", "sub_name", width=24),
    Column("监管方式", "mode", "mode", "mode", required=True, width=8, note="P / V / P+V"),
    Column("强检方式", "form", "verification_form", "enum", enum="verification_form", width=10),
    Column("说明", "note", "scope_note", width=30),
    Column("生效日期", "effective_on", "effective_from", "date", width=12),
    Column("建标层级", "levels", "levels", width=14,
           note="省级/市级/县级，多个用；分隔，留空为各级 / province, city and/or county, separated by ；; blank: every level"),
    Column("目录版本", "catalog_version", "catalog_version", width=30,
           note="留空为现行目录 / blank: the catalog in force"),
), key_fields=("catalog_version", "code"))

PLANS = Sheet("plans", "规划", "plans", (
    Column("规划名称", "name", "name", required=True, width=16, note="如 2026–2030 / e.g. 2026–2030"),
    Column("依据文件", "source_document", "source_document", width=30),
    Column("起始日期", "starts_on", "starts_on", "date", required=True, width=12),
    Column("期限", "deadline", "deadline", "date", required=True, width=12),
    Column("说明", "description", "description", width=30),
), key_fields=("name",))

TARGETS = Sheet("targets", "目标", "targets", (
    Column("规划", "plan", "plan", required=True, width=16, note="规划名称 / plan name"),
    Column("指标", "indicator", "indicator_key", required=True, width=30, note="指标键 / indicator key"),
    Column("地区", "region", "region_code", width=12,
           note="留空为全省；设区市名称或代码 / blank: the province; a city's name or code"),
    Column("比较", "comparator", "comparator", "enum", required=True, enum="comparator", width=8),
    Column("目标值", "target", "target", required=True, width=10, note="比率填小数 / ratios as decimals"),
    Column("上限", "target_max", "target_max", width=10, note="区间目标 / range targets"),
), key_fields=("plan", "indicator_key", "region_code"))

# Dependency order: a sheet may refer to keys defined by the sheets before it.
SHEETS: tuple[Sheet, ...] = (INSTITUTIONS, REGULATIONS, CATALOG, STANDARDS, PERSONNEL, PLANS, TARGETS)
BY_KIND = {sheet.kind: sheet for sheet in SHEETS}
# The order sheets appear in templates and exports.
WORKBOOK_ORDER = (INSTITUTIONS, STANDARDS, REGULATIONS, PERSONNEL, CATALOG, PLANS, TARGETS)


def find_sheet(name: str) -> Sheet | None:
    """The sheet spec a workbook tab name stands for (Chinese or English)."""
    wanted = normalize_label(name)
    for sheet in SHEETS:
        if wanted in (normalize_label(sheet.title), normalize_label(sheet.title_en)):
            return sheet
    return None


# The template's example rows (row 2 of each sheet), in column order.
EXAMPLE_CREDIT_CODE = "12360100MB00000000"
EXAMPLES: dict[str, list[Any]] = {
    "institutions": [EXAMPLE_CREDIT_CODE, "示例市计量检定测试所", "南昌市", "法定计量检定机构", "张三", "0791-88888888", None, None],
    "standards": ["[2024]赣量标示例证字第001号", "水表检定装置", "12023901", "社会公用", EXAMPLE_CREDIT_CODE, "力学",
                  "(0.01~80) m³/h", "U=0.2%, k=2", "南昌市市场监督管理局", date(2024, 3, 1), date(2028, 2, 29), "在用",
                  None, "水表", "JJG(赣) 999-2024", "否", None, None, None, None],
    "regulations": ["JJG(赣) 999-2024", "示例水表检定规程", "检定规程", "地方", "已发布", date(2024, 1, 1),
                    date(2024, 4, 1), None, "是", "否", None],
    "personnel": ["示例张三", EXAMPLE_CREDIT_CODE, date(2015, 7, 1), None, "示例注册-0001", "一级", "力学；热学",
                  date(2020, 1, 1), date(2024, 12, 31), None],
    "catalog": ["S99", "示例计量器具", "示例二级名称", "V", "周期检定", "示例说明", date(2020, 1, 1), "市级；县级", None],
    "plans": ["示例规划", "示例文件", date(2099, 1, 1), date(2099, 12, 31), None],
    "targets": ["示例规划", "social_public_standards", "南昌市", "≥", "300", None],
}
# The natural keys of the examples: a row still carrying one is reported, not imported.
EXAMPLE_KEYS = {
    "institutions": EXAMPLE_CREDIT_CODE,
    "standards": "[2024]赣量标示例证字第001号",
    "regulations": "JJG(赣) 999-2024",
    "personnel": ("registration_no", "示例注册-0001"),
    "catalog": "S99",  # the line code, in whichever version
    "plans": "示例规划",
    "targets": "示例规划",  # the plan's name, whatever the indicator and region
}
