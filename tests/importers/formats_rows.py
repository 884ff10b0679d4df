"""The rows behind the .xls and .ods fixtures (tests/importers/fixtures/same-rows.*) and their CSV copies.

``python -m tests.importers.fixtures.make_formats`` writes them (see its docstring); the tests build the
.xlsx and the CSV files from these rows in memory and compare the records each format produces.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from registry.records.codes import credit_code_check_char


def _code(body: str) -> str:
    return body + credit_code_check_char(body)


HOLDER = _code("12360100MB0000731")
OTHER = _code("12360700MB0000732")

SHEETS: dict[str, list[list[Any]]] = {
    "机构": [
        ["统一社会信用代码*", "机构名称*", "所属地区*", "机构类型*", "联系人", "联系电话"],
        [HOLDER, "格式测试计量所", "南昌市", "法定计量检定机构", "张三", "0791-88888888"],
        [OTHER, "格式测试检测中心", "360700", "授权计量技术机构", None, 13800138000],
    ],
    "计量标准": [
        ["证书编号*", "计量标准名称*", "计量标准代码", "类别*", "建标单位统一社会信用代码*", "专业", "测量范围",
         "不确定度/准确度等级/最大允许误差", "发证机关", "发证日期*", "有效期至*", "状态", "覆盖强检项目", "双碳相关"],
        ["[2024]赣量标格式证字第1号", "水表检定装置", "12023901", "社会公用", HOLDER, "力学", "(0.01~80) m³/h",
         "U=0.2%, k=2", "南昌市市场监督管理局", datetime(2024, 3, 1), datetime(2028, 2, 29), "在用", "S14", True],
        ["[2024]赣量标格式证字第2号", "电子天平检定装置", None, "部门最高", OTHER, None, "(0~200) g",
         "E2 级", "赣州市市场监督管理局", "2023/5/20", "2027年5月19日", "封存", None, False],
    ],
    "人员": [
        ["姓名*", "所在机构统一社会信用代码*", "入职日期", "离职日期", "注册证号", "级别", "注册专业", "注册日期",
         "注册有效期至"],
        ["李四", HOLDER, datetime(2019, 7, 1), None, "格式注册-1", "一级", "力学", datetime(2020, 1, 2),
         datetime(2030, 1, 1)],
        ["王五", OTHER, "2021-09-01", None, None, None, None, None, None],
    ],
}


def csv_text(rows: list[list[Any]]) -> str:
    """The sheet as Excel writes it to CSV: dates as dates, TRUE/FALSE, whole numbers without .0."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
