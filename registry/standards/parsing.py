"""Read the structured parts out of a range or an uncertainty as people type them.

BIPM's KCDB keeps a range as lower limit, upper limit and unit, and an
uncertainty as value with a coverage factor k.  Free text stays the record of
what was declared; these parsers fill the structured columns when they can and
leave them empty otherwise, never guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Fold only digits and punctuation: NFKC would also turn ℃ into °C and m³ into m3.
_FOLD = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "（": "(", "）": ")", "～": "~", "〜": "~", "－": "-", "．": ".", "，": ",", "：": ":", "＝": "=",
    "＋": "+", "−": "-", "Ｕ": "U", "ｋ": "k", "Ｋ": "k",
})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUM = r"[-+]?\d+(?:\.\d+)?(?:\s*[×xX*]\s*10\s*\^?\s*[-+⁻⁺]?[\d⁰¹²³⁴⁵⁶⁷⁸⁹]+|\s*[eE][-+]?\d+)?"
_UNIT = r"[^\d\s~(),;，；][^~(),;，；]*?"
# The unit columns' width: longer "units" are free text, not a unit (left unparsed).
MAX_UNIT = 30


def _fold(text: str) -> str:
    return text.translate(_FOLD).strip()


def _number(text: str) -> float:
    text = re.sub(r"\s+", "", text.translate(_SUPERSCRIPT))
    match = re.match(r"^([-+]?\d+(?:\.\d+)?)[×xX*]10\^?([-+]?\d+)$", text)
    if match:
        return float(match.group(1)) * 10 ** int(match.group(2))
    return float(text)


@dataclass(frozen=True)
class ParsedRange:
    lower: float | None = None
    upper: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ParsedUncertainty:
    kind: str | None = None  # "uncertainty", "accuracy_class" or "mpe"
    value: float | None = None
    unit: str | None = None
    k: float | None = None


_RANGE_PATTERNS = [
    # (0~200) ℃   0~200 ℃   (-60~420)℃
    re.compile(rf"^\(?\s*(?P<lo>{_NUM})\s*(?:~|至|—|–)\s*(?P<hi>{_NUM})\s*\)?\s*(?P<unit>{_UNIT})?\s*$"),
    # (1 mg~20 mg): one unit on each side, kept only when both agree
    re.compile(rf"^\(?\s*(?P<lo>{_NUM})\s*(?P<u1>{_UNIT})\s*(?:~|至|—|–)\s*(?P<hi>{_NUM})\s*(?P<u2>{_UNIT})\s*\)?\s*$"),
]


# Results are immutable and the same texts recur on many records (imports).
@lru_cache(maxsize=4096)
def parse_range(text: str | None) -> ParsedRange:
    if not text:
        return ParsedRange()
    folded = _fold(text)
    for pattern in _RANGE_PATTERNS:
        match = pattern.match(folded)
        if not match:
            continue
        groups = match.groupdict()
        if "u1" in groups:
            if groups["u1"].strip() != groups["u2"].strip():
                return ParsedRange()
            unit = groups["u1"].strip()
        else:
            unit = (groups.get("unit") or "").strip() or None
        if unit is not None and len(unit) > MAX_UNIT:
            return ParsedRange()
        return ParsedRange(_number(groups["lo"]), _number(groups["hi"]), unit)
    return ParsedRange()


_U_RE = re.compile(
    rf"^U(?:_?rel|r)?\s*[=:]\s*(?P<value>{_NUM})\s*(?P<unit>[^,;()]*?)\s*[,;(]?\s*k\s*=\s*(?P<k>\d+(?:\.\d+)?)\s*\)?\s*$",
    re.IGNORECASE,
)
_MPE_RE = re.compile(rf"^(?:MPE|最大允许误差)?\s*[:=]?\s*±\s*(?P<value>{_NUM})\s*(?P<unit>.*?)\s*$", re.IGNORECASE)
_CLASS_RE = re.compile(r"^(?:[0-9.]+|[A-Z]\d*|[一二三四五六]|\d)\s*(?:级|等)$")


@lru_cache(maxsize=4096)
def parse_uncertainty(text: str | None) -> ParsedUncertainty:
    if not text:
        return ParsedUncertainty()
    folded = _fold(text)
    match = _U_RE.match(folded)
    if match and len(match.group("unit").strip()) <= MAX_UNIT:
        return ParsedUncertainty("uncertainty", _number(match.group("value")),
                                 match.group("unit").strip() or None, float(match.group("k")))
    match = _MPE_RE.match(folded)
    if match and len(match.group("unit").strip()) <= MAX_UNIT:
        return ParsedUncertainty("mpe", _number(match.group("value")), match.group("unit").strip() or None)
    if _CLASS_RE.match(folded):
        return ParsedUncertainty("accuracy_class")
    return ParsedUncertainty()
