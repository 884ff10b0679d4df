"""Validators and normal forms for the codes the registry keys records by.

Each ``normalize_*`` returns the one stored form or raises
:class:`registry.errors.ValidationError` with a message in Chinese and
English.  Importers, API schemas and services all call these, so a code is
checked the same way at every door.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from registry.errors import ValidationError

# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------

_SPACES = re.compile(r"\s+")

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def to_halfwidth(text: str) -> str:
    """Fold full-width letters, digits and punctuation to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters."""
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    # The outer ``% 31`` maps a remainder of 0 to check value 0, not 31.
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: object, *, field: str = "credit_code") -> str:
    code = _SPACES.sub("", to_halfwidth(str(value or ""))).upper()
    if len(code) != 18:
        raise ValidationError(
            f"统一社会信用代码应为18位，实为{len(code)}位 / "
            f"a unified social credit code has 18 characters, got {len(code)}",
            field=field,
        )
    bad = sorted({c for c in code if c not in _CREDIT_VALUES})
    if bad:
        raise ValidationError(
            f"统一社会信用代码含非法字符 {''.join(bad)}（不使用 I、O、S、V、Z）/ "
            f"invalid characters {''.join(bad)} (I, O, S, V and Z are never used)",
            field=field,
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"统一社会信用代码校验位错误：第18位应为 {expected}，实为 {code[17]} / "
            f"wrong check character: expected {expected}, got {code[17]}",
            field=field,
        )
    return code


# --- JJF 1022 计量标准代码 -------------------------------------------------------


def normalize_standard_code(value: object, *, field: str = "code") -> str:
    """Return the 8-digit JJF 1022 code as a string.

    A spreadsheet that typed ``04113803`` as a number keeps ``4113803``; the
    lost leading zero is restored.  Codes are never stored as numbers.
    """
    if isinstance(value, bool):
        raise ValidationError("计量标准代码应为8位数字 / the code must be 8 digits", field=field)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(
                f"计量标准代码应为8位数字，实为 {value} / the code must be 8 digits, got {value}",
                field=field,
            )
        value = int(value)
    text = _SPACES.sub("", to_halfwidth(str(value)))
    # Only a number that lost its leading zero has 7 digits (and no zero in front).
    if not text.isdigit() or not (len(text) == 8 or (len(text) == 7 and text[0] != "0")):
        raise ValidationError(
            f"计量标准代码应为8位数字，实为 {text!r} / the JJF 1022 code must be 8 digits, got {text!r}",
            field=field,
        )
    return text.zfill(8)


# --- 检定规程 / 技术规范 编号 ---------------------------------------------------------

_DASHES = "—–―‐‑‒－-"
_REGULATION_RE = re.compile(
    r"^(?P<series>JJG|JJF)\s*"
    r"(?:\(\s*(?P<province>[\u4e00-\u9fff])\s*\)\s*)?"
    r"(?P<number>\d+(?:\.\d+)?)\s*"
    rf"[{_DASHES}]\s*"
    r"(?P<year>\d{4})$"
)


def parse_regulation_code(value: object, *, field: str = "code") -> dict:
    """Split a regulation code into series, province, number and year.

    Accepts half- or full-width brackets, any dash, optional spaces and lower
    case: ``JJG(赣)121—2015``, ``jjf（赣） 124-2015``, ``JJF 1059.1—2012``.
    """
    text = to_halfwidth(str(value or "")).strip().upper()
    # NFKC leaves the em dash alone; CJK brackets 【】〔〕 are typed too.
    text = text.replace("〔", "(").replace("〕", ")").replace("【", "(").replace("】", ")")
    match = _REGULATION_RE.match(text)
    if not match:
        raise ValidationError(
            f"规程编号无法识别：{value!r}（应如 JJG 225-2001 或 JJG(赣) 123-2024）/ "
            f"unrecognised regulation code {value!r} (expected e.g. JJG 225-2001 or JJG(赣) 123-2024)",
            field=field,
        )
    parts = match.groupdict()
    parts["year"] = int(parts["year"])
    return parts


# Codes as people type them in a search box: brackets optional, a space (or nothing) for the dash,
# spaces anywhere (``JJG赣101-2023``, ``JJG 赣 33 2021``, ``JJG（赣）101—2023``).
_REGULATION_SEARCH_RE = re.compile(
    r"^(?P<series>JJG|JJF)\s*\(?\s*(?P<province>[\u4e00-\u9fff])?\s*\)?\s*"
    r"(?P<number>\d+(?:\.\d+)?)\s*"
    rf"(?:[{_DASHES}]\s*)?"
    r"(?P<year>(?:19|20)\d{2})$"
)


def regulation_search_code(value: object) -> str | None:
    """The stored form of a whole regulation code typed in any spelling, or ``None`` when it is not one."""
    text = to_halfwidth(str(value or "")).strip().upper()
    text = text.replace("〔", "(").replace("〕", ")").replace("【", "(").replace("】", ")")
    match = _REGULATION_SEARCH_RE.match(text)
    if not match:
        return None
    return format_regulation_code(match["series"], match["number"], int(match["year"]), match["province"])


def format_regulation_code(series: str, number: str, year: int, province: str | None) -> str:
    prefix = f"{series}({province})" if province else series
    return f"{prefix} {number}-{year}"


def normalize_regulation_code(value: object, *, field: str = "code") -> str:
    p = parse_regulation_code(value, field=field)
    return format_regulation_code(p["series"], p["number"], p["year"], p["province"])


# --- 计量标准考核证书编号 -----------------------------------------------------------

_CERT_BRACKETS = str.maketrans({"〔": "[", "〕": "]", "【": "[", "】": "]", "(": "[", ")": "]"})
_CERT_BRACKET_CHARS = re.compile("[〔〕【】()]")
_CERTIFICATE_RE = re.compile(r"^\[(?P<year>\d{2}|\d{4})\](?P<body>.*量标.*证字第\d+号)$")


def normalize_certificate_no(value: object, *, field: str = "certificate_no") -> str:
    """Return the certificate number in one form: ASCII brackets, no spaces.

    Validation is loose on purpose: a bracketed two- or four-digit year, then
    text containing 量标 and ending in 证字第N号 (``[86]陕量标气证字第002号``).
    """
    text = _certificate_form(value if value.__class__ is str else str(value or ""))
    if text is None:
        raise ValidationError(
            f"证书编号格式不符：{value!r}（应如 [2016]赣量标证字第006号）/ "
            f"unrecognised certificate number {value!r} (expected e.g. [2016]赣量标证字第006号)",
            field=field,
        )
    return text


# The search key (``measurement_standards.certificate_key``): the number as printed on paper, in any
# spelling, folds to one string.  Brackets of every kind and spaces go, width and case are folded, and a
# serial's leading zeros are dropped: 〔2025〕赣量标证字第4号, [2025]赣量标证字第00004号 and
# 2025 赣量标证字第 0004 号 share the key ``2025赣量标证字第4号``.
_KEY_DROPPED = re.compile(r"[\s\[\]〔〕【】()（）［］{}｛｝〖〗〘〙﹝﹞⦅⦆「」『』<>《》〈〉]")
_SERIAL_ZEROS = re.compile(r"第0+(?=\d)")
_WHOLE_KEY = re.compile(r"^(?:\d{2}|\d{4})\D.*量标.*证字第\d+号$")


def certificate_search_key(value: object) -> str:
    """The certificate number's search key: the same for every printed spelling of one number."""
    text = _KEY_DROPPED.sub("", to_halfwidth(str(value or "")).upper())
    return _SERIAL_ZEROS.sub("第", text)


def is_whole_certificate_key(key: str) -> bool:
    """Whether a search key is a whole certificate number (year, 量标 … 证字第N号), not a part of one."""
    return bool(_WHOLE_KEY.match(key))


@lru_cache(maxsize=16_384)
def _certificate_form(typed: str) -> str | None:
    """The normal form of a typed certificate number, ``None`` when it is not one.

    Remembered: an import reads each row's number for its key, then cleans the row
    with the service, which normalises it again.
    """
    text = "".join(to_halfwidth(typed).split())
    if _CERT_BRACKET_CHARS.search(text):  # translate() is the slow part: only when needed
        text = text.translate(_CERT_BRACKETS)
    return text if _CERTIFICATE_RE.match(text) else None


def certificate_year(certificate_no: str) -> int:
    """Return the four-digit year of a normalised certificate number."""
    year = int(_CERTIFICATE_RE.match(certificate_no).group("year"))
    if year < 100:
        year += 1900 if year >= 50 else 2000
    return year


# --- 公民身份号码 (GB 11643-1999) -------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalize_id_number(value: object, *, field: str = "id_number") -> str:
    """Check an 18-character national ID number and return it upper-cased."""
    text = _SPACES.sub("", to_halfwidth(str(value or ""))).upper()
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise ValidationError("身份证号应为18位 / an ID number has 18 characters", field=field)
    expected = _ID_CHECK[sum(int(c) * w for c, w in zip(text, _ID_WEIGHTS)) % 11]
    if text[17] != expected:
        raise ValidationError(f"身份证号校验位错误，应为 {expected} / wrong check character, expected {expected}",
                              field=field)
    return text
