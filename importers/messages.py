"""Import messages in one language: the user's.

Every message an import reports (a refused file, a row error, a warning,
the CLI's lines) is written here as a pair, ``msg(zh, en)``, and comes out
in the language of the import that is running: the page's session language,
the API's ``Accept-Language``, the CLI's ``--lang`` (default
``REGISTRY_LANG``, else Chinese).  :func:`speaking` sets it for the length
of an import, and also forces Flask-Babel's locale, so messages the
services translate with ``gettext`` come out in the same language.

Messages that still arrive from a service as ``中文 / English`` are cut to
the right half by :func:`one_language` before they reach the report.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LANGUAGES = ("zh", "en")
_language: ContextVar[str] = ContextVar("import_language", default="zh")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Where a glued "中文 / English" message turns English: a slash, then a lowercase word.
_GLUE = re.compile(r"\s?/ (?=[a-z\"'‘“(]|\{)")
_ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def language() -> str:
    """The language of the import running now (``zh`` or ``en``)."""
    return _language.get()


def msg(zh: str, en: str) -> str:
    """The message in the import's language."""
    return en if _language.get() == "en" else zh


def normalize(lang: str | None) -> str | None:
    """``zh``/``en`` from a locale name (``zh_Hans_CN``, ``en_US``, ``EN``); None when not given."""
    if not lang:
        return None
    code = str(lang).strip().replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def request_language() -> str | None:
    """The page's or the API request's language, when there is a request."""
    from flask import has_request_context

    if not has_request_context():
        return None
    from flask_babel import get_locale

    locale = get_locale()
    return normalize(str(locale)) if locale is not None else None


def default_language(config: Mapping[str, Any] | None = None) -> str:
    """Outside a request: ``IMPORT_LANGUAGE`` (``REGISTRY_LANG``) of ``config``, else of the app, else Chinese."""
    from flask import current_app, has_app_context

    if config is None and has_app_context():
        config = current_app.config
    return (normalize(config.get("IMPORT_LANGUAGE")) if config is not None else None) or "zh"


def choose(lang: str | None = None, config: Mapping[str, Any] | None = None) -> str:
    """The language an import speaks: the one asked for, else the request's, else the default (of ``config``,
    before the app is built: :mod:`importers.early`)."""
    return normalize(lang) or request_language() or default_language(config)


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Messages made inside come out in ``lang`` (see :func:`choose`)."""
    chosen = choose(lang)
    token = _language.set(chosen)
    try:
        from flask import has_app_context

        if has_app_context():
            from flask_babel import force_locale

            with force_locale("en" if chosen == "en" else "zh_Hans_CN"):
                yield chosen
        else:
            yield chosen
    finally:
        _language.reset(token)


def one_language(message: str, lang: str | None = None) -> str:
    """A ``中文 / English`` message cut to the half in ``lang`` (others are returned as they are).

    The cut is the first `` / `` followed by a lowercase English word where
    Chinese stands before it and English words follow: ``必填 / required``,
    ``取值应为 P / V / P+V / must be one of P, V, P+V``.  A message in one
    language (``取值应为 JJG / JJF``) has no such place and is left alone.
    """
    if not message or " / " not in message and "/ " not in message:
        return message
    for match in _GLUE.finditer(message):
        left, right = message[:match.start()], message[match.end():]
        if _CJK.search(left) and _ENGLISH_WORD.search(right):
            return right.strip() if (lang or _language.get()) == "en" else left.strip()
    return message
