"""Import messages: one language each (the user's), an institution user told which rows are not theirs,
and a root error reported once with the rows that depend on it."""
from __future__ import annotations

import re

import pytest

from importers import run_import
from importers.messages import one_language
from tests import factories
from tests.importers.books import INSTITUTION_HEADER, PERSON_HEADER, STANDARD_HEADER, xlsx
from tests.importers.test_import import counts, standard_row, user

ONLY_OWN = {"zh": "只能导入本机构的记录", "en": "Only your institution's records can be imported"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_institution_users_rows_of_other_institutions_are_told_so(lang):
    own, other = factories.institution(), factories.institution()
    theirs = factories.standard(other, certificate_no="[2024]赣量标证字第811号")
    staff = user("institution", own)
    book = xlsx({
        "机构": [INSTITUTION_HEADER, [other.credit_code, other.name, "南昌市", "法定计量检定机构", None, None]],
        "计量标准": [STANDARD_HEADER, standard_row(theirs.certificate_no, own.credit_code),
                     standard_row("[2024]赣量标证字第812号", other.credit_code),
                     standard_row("[2024]赣量标证字第813号", own.credit_code)],
    })
    before = counts()
    report = run_import(book, actor=staff, lang=lang)
    assert [(e.sheet, e.row, e.column, e.message) for e in report.errors] == [
        ("机构", 2, "统一社会信用代码", ONLY_OWN[lang]),
        ("计量标准", 2, "证书编号", ONLY_OWN[lang]),
        ("计量标准", 3, "建标单位统一社会信用代码", ONLY_OWN[lang]),
    ]
    assert counts() == before


@pytest.mark.parametrize("lang, depends", [("zh", "依赖 机构 第3行，该行有错误"),
                                           ("en", "depends on 机构 row 3, which has an error")])
def test_one_bad_credit_code_is_reported_once_and_its_dependent_rows_point_at_it(lang, depends):
    good = factories.credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # a wrong check character
    book = xlsx({
        "机构": [INSTITUTION_HEADER, [good, "好的计量所", "南昌市", "法定计量检定机构", None, None],
                 [bad, "校验位错的计量所", "南昌市", "法定计量检定机构", None, None]],
        "计量标准": [STANDARD_HEADER] + [standard_row(f"[2024]赣量标证字第82{n}号", bad) for n in range(6)]
        + [standard_row("[2024]赣量标证字第829号", good)],
        "人员": [PERSON_HEADER, ["赵六", bad, None, None, None, None, None, None, None]],
    })
    report = run_import(book, actor=None, lang=lang)
    roots = [e for e in report.errors if e.sheet == "机构"]
    assert [(e.row, e.column) for e in roots] == [(3, "统一社会信用代码")]
    assert ("校验位" in roots[0].message) if lang == "zh" else ("check character" in roots[0].message)
    dependents = [(e.sheet, e.row, e.column, e.message) for e in report.errors if e.sheet != "机构"]
    assert dependents == [("计量标准", row, "建标单位统一社会信用代码", depends) for row in range(2, 8)] + \
        [("人员", 2, "所在机构统一社会信用代码", depends)]


def test_a_credit_code_nobody_defined_is_still_not_found():
    missing = factories.credit_code()
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第831号", missing)]}),
                        actor=None, lang="en")
    assert [e.message for e in report.errors] == [f"no institution with credit code {missing}"]


def _messy_errors(lang: str) -> list[str]:
    holder = factories.institution()
    rows = [standard_row("[2024]赣量标证字第841号", holder.credit_code, **{"类别*": "公用", "有效期至*": None}),
            standard_row("[2024]赣量标证字第842号", holder.credit_code, **{"发证日期*": "明天", "覆盖强检项目": "飞船"}),
            standard_row("[2024]赣量标证字第841号", holder.credit_code, **{"依据规程": "JJG 999-1999"})]
    report = run_import(xlsx({"计量标准": [STANDARD_HEADER, *rows], "Sheet2": [["x"]]}), actor=None, lang=lang)
    assert len(report.errors) >= 5
    return [e.message for e in report.errors]


def test_each_import_message_is_in_one_language():
    chinese, english = _messy_errors("zh"), _messy_errors("en")
    assert len(chinese) == len(english)
    for zh, en in zip(chinese, english):
        assert zh != en and one_language(zh) == zh and one_language(en) == en, (zh, en)
        assert " / " not in en and _CJK.search(zh), (zh, en)
        # English messages name Chinese values only (the cells typed, the sheet's column names)
        assert not _CJK.search(re.sub(r"'[^']*'|“[^”]*”|[^\x00-\x7f]*(?:公用|飞船|社会公用|部门最高|企事业最高)[^\x00-\x7f]*",
                                      "", en)) or "飞船" in en or "公用" in en, en


def test_the_default_language_is_chinese_and_the_cli_takes_lang(app, monkeypatch, runner, tmp_path):
    monkeypatch.setitem(app.config, "IMPORT_LANGUAGE", "zh")
    report = run_import(b"\x7fELF" + bytes(40), actor=None)
    assert report.rejected == "不是可导入的文件：可导入 .xlsx, .xls, .ods, .csv"
    holder = factories.institution()
    path = tmp_path / "book.xlsx"
    path.write_bytes(xlsx({"计量标准": [STANDARD_HEADER, standard_row("[2024]赣量标证字第851号", holder.credit_code)]}))
    chinese = runner.invoke(args=["import", str(path), "--dry-run"])
    assert chinese.exit_code == 0 and "计量标准：新增 1 · 更新 0 · 未变 0" in chinese.output
    assert "created" not in chinese.output and "dry run" not in chinese.output
    # (the command rolled back the test's holder: the same file now names an unknown institution)
    english = runner.invoke(args=["import", str(path), "--dry-run", "--lang", "en"])
    assert english.exit_code == 1, english.output
    assert "计量标准: created 0 · updated 0 · unchanged 0" in english.output
    assert "1 errors, nothing written:" in english.output and "计量标准 row 2 [建标单位统一社会信用代码]: no institution" \
        in english.output
    assert "新增" not in english.output and "未写入" not in english.output and "第2行" not in english.output


@pytest.mark.parametrize("message, zh, en", [
    ("必填 / required", "必填", "required"),
    ("取值应为 P / V / P+V / must be one of P, V, P+V", "取值应为 P / V / P+V", "must be one of P, V, P+V"),
    ("状态 封存 / 撤销 / status sealed or revoked", "状态 封存 / 撤销", "status sealed or revoked"),
    ("xl/a.xml 的编码无法解码（utf-16）/ xl/a.xml cannot be decoded", "xl/a.xml 的编码无法解码（utf-16）",
     "xl/a.xml cannot be decoded"),
    ("取值应为 JJG / JJF", "取值应为 JJG / JJF", "取值应为 JJG / JJF"),
    ("must be one of 社会公用 / 部门最高", "must be one of 社会公用 / 部门最高", "must be one of 社会公用 / 部门最高"),
])
def test_a_glued_service_message_is_cut_to_the_users_half_and_others_are_left_alone(message, zh, en):
    assert (one_language(message, "zh"), one_language(message, "en")) == (zh, en)
