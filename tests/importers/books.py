"""Build test workbooks in memory with openpyxl (no binary fixtures)."""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook

INSTITUTION_HEADER = ["统一社会信用代码*", "机构名称*", "所属地区*", "机构类型*", "联系人", "联系电话"]
STANDARD_HEADER = ["证书编号*", "计量标准名称*", "计量标准代码", "类别*", "建标单位统一社会信用代码*", "专业", "测量范围",
                   "不确定度/准确度等级/最大允许误差", "发证机关", "发证日期*", "有效期至*", "状态", "覆盖强检项目",
                   "依据规程", "双碳相关"]
REGULATION_HEADER = ["编号*", "名称*", "类型", "级别", "状态", "发布日期", "实施日期", "废止日期", "急需", "双碳相关"]
PERSON_HEADER = ["姓名*", "所在机构统一社会信用代码*", "入职日期", "离职日期", "注册证号", "级别", "注册专业", "注册日期",
                 "注册有效期至"]
CATALOG_HEADER = ["序号*", "一级名称*", "二级名称", "监管方式*", "强检方式", "说明", "生效日期"]


def xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    """A workbook with one tab per entry; each row a list of cell values."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read(data: bytes | str, **kwargs) -> Any:
    return load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data, **kwargs)
