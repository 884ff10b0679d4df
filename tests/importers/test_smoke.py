from datetime import date

from importers import run_import
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, STANDARD_HEADER, xlsx


def test_smoke():
    code = factories.credit_code()
    data = xlsx({
        "机构": [INSTITUTION_HEADER, [code, "新机构", "南昌", "法定计量检定机构", "张三", 13800138000]],
        "计量标准": [STANDARD_HEADER, ["[2024]赣量标测证字第1号", "水表检定装置", 4113803, "社会公用", code, "", "(0.01~80) m³/h",
                                   "U=0.2%, k=2", "南昌市市场监督管理局", date(2024, 3, 1), "2028/2/29", "在用", "S14；水表", "", "否"]],
    })
    report = run_import(data, actor=None)
    print(report.to_dict())
    assert report.ok
    report = run_import(data, actor=None, dry_run=True)
    print(report.to_dict(include_changes=True))
