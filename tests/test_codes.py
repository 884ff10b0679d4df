import pytest

from registry.records.codes import (
    certificate_year,
    credit_code_check_char,
    normalize_certificate_no,
    normalize_credit_code,
    normalize_regulation_code,
    normalize_standard_code,
)
from registry.errors import ValidationError

VALID_CREDIT_CODES = [
    "91350100M000100Y43",  # the worked example printed in GB 32100-2015
    "12100000400010398P",  # 事业单位 (12…) codes
    "11100000000019124F",
]


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_valid_credit_codes_pass(code):
    assert normalize_credit_code(code) == code


def test_credit_code_is_folded_to_half_width_upper_case():
    assert normalize_credit_code(" ９１３５０１００m０００１００y４３ ") == "91350100M000100Y43"


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(ValidationError) as exc:
        normalize_credit_code("91350100M000100Y44")
    assert "应为 3" in exc.value.message and "expected 3" in exc.value.message


def test_check_character_zero_case_uses_outer_modulo():
    # Find a body whose weighted sum is a multiple of 31: without the outer
    # ``mod 31`` the check index would be 31, past the end of the alphabet.
    body = next(f"1236010000000{n:04d}" for n in range(10000)
                if sum(int(c) * pow(3, i, 31) for i, c in enumerate(f"1236010000000{n:04d}")) % 31 == 0)
    assert credit_code_check_char(body) == "0"
    assert normalize_credit_code(body + "0") == body + "0"


@pytest.mark.parametrize("bad", ["", "9135010", "91350100M000100Y4399", "91350100M0001O0Y43", "91350100I000100Y43"])
def test_malformed_credit_codes_are_rejected(bad):
    with pytest.raises(ValidationError):
        normalize_credit_code(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("04113803", "04113803"),
        (4113803, "04113803"),  # a spreadsheet typed the code as a number
        (4113803.0, "04113803"),
        ("4113803", "04113803"),
        ("12345678", "12345678"),
        ("０４１１３８０３", "04113803"),
    ],
)
def test_standard_codes_keep_their_leading_zero(raw, expected):
    assert normalize_standard_code(raw) == expected


@pytest.mark.parametrize("bad", ["0411380", "041138031", "0411-3803", 4.5, True, "abc"])
def test_bad_standard_codes_are_rejected(bad):
    with pytest.raises(ValidationError):
        normalize_standard_code(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JJG 225—2001", "JJG 225-2001"),
        ("JJG 225-2001", "JJG 225-2001"),
        ("JJG225–2001", "JJG 225-2001"),
        ("JJF 1033—2023", "JJF 1033-2023"),
        ("JJF 1059.1—2012", "JJF 1059.1-2012"),
        ("JJG(冀)121—2015", "JJG(冀) 121-2015"),
        ("JJF(冀) 124-2015", "JJF(冀) 124-2015"),
        ("JJG（赣）123—2024", "JJG(赣) 123-2024"),
        ("JJG（赣） 123 － 2024", "JJG(赣) 123-2024"),
        ("jjf(赣)12-2020", "JJF(赣) 12-2020"),
        ("JJG〔赣〕123-2024", "JJG(赣) 123-2024"),
    ],
)
def test_regulation_codes_in_every_spelling_share_one_form(raw, expected):
    assert normalize_regulation_code(raw) == expected


@pytest.mark.parametrize("bad", ["GB 225-2001", "JJG 225", "JJG 225-01", "JJG(江西) 1-2020", ""])
def test_bad_regulation_codes_are_rejected(bad):
    with pytest.raises(ValidationError):
        normalize_regulation_code(bad)


@pytest.mark.parametrize(
    ("raw", "expected", "year"),
    [
        ("[2011]冀社量标授证字第104号", "[2011]冀社量标授证字第104号", 2011),
        ("[2016]桂量标气象证字第006号", "[2016]桂量标气象证字第006号", 2016),
        ("[86]陕量标气证字第002号", "[86]陕量标气证字第002号", 1986),
        ("〔2020〕赣量标证字第 12 号", "[2020]赣量标证字第12号", 2020),
        ("［2020］赣量标证字第12号", "[2020]赣量标证字第12号", 2020),
    ],
)
def test_certificate_numbers_with_two_and_four_digit_years(raw, expected, year):
    normalized = normalize_certificate_no(raw)
    assert normalized == expected
    assert certificate_year(normalized) == year


@pytest.mark.parametrize("bad", ["2011冀社量标授证字第104号", "[2011]冀社授证字第104号", "[2011]冀量标证字第号", "[201]赣量标证字第1号"])
def test_bad_certificate_numbers_are_rejected(bad):
    with pytest.raises(ValidationError):
        normalize_certificate_no(bad)
