"""A checker for "each message in one language": lines that run Chinese and English together."""
from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]")  # ideographs and full-width punctuation
# The factories' Chinese names and certificate numbers: data, in the language it was recorded in.
DATA = re.compile(r"测试[\u4e00-\u9fff]+\d+|\[\d{4}\][\u4e00-\u9fff]+第\d+号")
TOKEN = re.compile(r"[^\s\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]+")


def english_words(line: str) -> list[str]:
    """The English words of a line: tokens of 4 or more letters that are not codes or identifiers.

    ``social_public_standards``, ``/api/v1/standards?status_undated=true``, ``SQLITE_BUSY_TIMEOUT_MS``
    and ``GET`` are not words of a language.
    """
    words = []
    for token in TOKEN.findall(line):
        if any(ch in token for ch in "_/=?&#@"):
            continue
        word = token.strip("()[]{}.,;:!'\"“”‘’–—-…")
        if len(word) >= 4 and word.isascii() and word.replace("'", "").isalpha() and not word.isupper():
            words.append(word)
    return words


def mixed_lines(output: str) -> list[str]:
    """Lines that hold Chinese and English words together (the records' own names aside).

    click's own "Error: " before a message is its framing, not the command's words.
    """
    return [line for line in output.splitlines()
            if CJK.search(DATA.sub("", line)) and english_words(line.removeprefix("Error: "))]


def chinese_lines(output: str) -> list[str]:
    """Lines with Chinese in them other than the records' own names."""
    return [line for line in output.splitlines() if CJK.search(DATA.sub("", line))]
