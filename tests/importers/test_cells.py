"""Cell values as spreadsheets hold them, turned into what the services take."""
from datetime import date, datetime

import pytest

from importers.cells import to_bool, to_date, to_list, to_text
from importers.spec import ENUM_CODES, ENUMS, SHEETS, find_sheet, normalize_header


@pytest.mark.parametrize("cell", [
    date(2023, 5, 20), datetime(2023, 5, 20, 0, 0), datetime(2023, 5, 20, 14, 30), 45066, 45066.0,
    "2023-05-20", "2023/5/20", "2023.5.20", "2023年5月20日", "2023 年 5 月 20 日", "２０２３－０５－２０", "20230520",
    "2023-05-20 00:00:00",
])
def test_every_date_form_becomes_the_same_date(cell):
    assert to_date(cell) == date(2023, 5, 20)


@pytest.mark.parametrize("cell", ["2023-02-30", "next week", "20231340"])
def test_an_impossible_date_is_passed_on_for_the_service_to_report(cell):
    assert to_date(cell) == cell


@pytest.mark.parametrize("cell, expected", [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("TRUE", True), ("false", False), (True, True),
    (0, False), (1.0, True), (" 是 ", True), ("Ｙ", True),
])
def test_yes_and_no_in_every_spelling(cell, expected):
    assert to_bool(cell) is expected


def test_an_unknown_yes_no_word_is_passed_on():
    assert to_bool("也许") == "也许"


@pytest.mark.parametrize("cell", ["S01；S02", "S01;S02", "S01、S02", "S01,S02", "S01，S02", "S01\nS02", " S01 ；；S02 "])
def test_multi_value_separators(cell):
    assert to_list(cell) == ["S01", "S02"]


def test_codes_typed_as_numbers_lose_the_float_part():
    assert to_text(4113803.0) == "4113803"
    assert to_text(13800138000.0) == "13800138000"
    assert to_text(1.5) == "1.5"


@pytest.mark.parametrize("typed", ["证书编号", "证书编号*", " 证书 编号 ", "证书编号（必填）", "证书编号(必填)", "Certificate_No",
                                   "certificate no", "ＣＥＲＴＩＦＩＣＡＴＥ＿ＮＯ", "*证书编号"])
def test_headers_match_despite_spaces_width_case_and_required_marks(typed):
    standards = find_sheet("计量标准")
    assert standards.matchers[normalize_header(typed)].field == "certificate_no"


@pytest.mark.parametrize("name, kind", [("机构", "institutions"), ("Institutions", "institutions"),
                                        (" 计量标准 ", "standards"), ("STANDARDS", "standards"), ("检定规程", "regulations"),
                                        ("人员", "personnel"), ("强检目录", "catalog"), ("Catalog", "catalog")])
def test_sheets_match_by_chinese_or_english_name(name, kind):
    assert find_sheet(name).kind == kind


def test_instruction_and_list_sheets_are_not_import_sheets():
    assert find_sheet("填表说明") is None and find_sheet("下拉列表") is None


def test_every_enumeration_covers_the_model_codes():
    for key, codes in ENUM_CODES.items():
        assert set(ENUMS[key]) == set(codes), key


def test_no_two_columns_of_a_sheet_share_a_spelling():
    for sheet in SHEETS:
        spellings = [normalize_header(name) for c in sheet.columns for name in (c.header, c.alias)]
        assert len(spellings) == len(set(spellings)), sheet.kind
