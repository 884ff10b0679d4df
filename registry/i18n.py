"""Languages on the pages: Chinese by default, English on request.

Message ids are the Chinese text itself, so a string nobody has translated
yet still reads correctly in Chinese; ``registry/translations/en`` holds the
English.  The ``.po`` catalogue is the source; its compiled ``.mo`` is built
from it when missing or older (``make translations`` does the same by hand),
so a checkout never serves stale English.

Babel spells Simplified Chinese ``zh_Hans_CN`` (it maps ``zh_CN`` there).
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from registry.extensions import babel

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
_log = logging.getLogger(__name__)

bp = Blueprint("i18n", __name__)


def init_app(app: Flask) -> None:
    compile_translations()
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.filters.update(one_language=one_language, date=_date, datetime=_datetime, number=_number, percent=_percent)
    app.jinja_env.globals.update(is_english=is_english, other_language=other_language)


def compile_translations(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError as error:  # a read-only install: serve what is there
            _log.warning("cannot compile %s: %s", po, error)


def select_locale() -> str:
    """The language chosen with the switcher, else the browser's, else Chinese (outside a request: the CLI)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(["zh", "en"]) if request else None
    return "en" if best == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]


def is_english() -> bool:
    return get_locale() is not None and get_locale().language == "en"


def other_language() -> tuple[str, str]:
    """The code and the label of the language the switcher offers."""
    return ("zh_Hans_CN", "中文") if is_english() else ("en", "English")


@bp.get("/lang/<code>")
def switch_language(code: str):
    """Remember the language for this browser and go back where the user was."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.args.get("next") or request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:  # never an open redirect
        target = ""
    path = parts.path if target else ""
    if not path.startswith("/") or path.startswith("//"):
        return redirect(url_for("main.index"))
    return redirect(path + (f"?{parts.query}" if parts.query else ""))


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# " / " (or "）/ ") before an English clause: where a "中文 / English" message changes language.
_SEPARATOR = re.compile(r"\s*(?<=[\s）)])/\s+(?=[A-Za-z0-9'\"(\[{])")


def split_bilingual(text: str) -> tuple[str, str] | None:
    """``(chinese, english)`` of a service message written "中文 / English", or ``None``.

    Services, the CLI and the importer speak both languages in one string (the
    CLI's reader may read either); a page or an API answer shows one side.  The
    split is at the last separator with Chinese before it, so codes such as
    "省级/市级/县级" or "a / b" inside the Chinese side stay whole.
    """
    if not isinstance(text, str) or " /" not in text and "）/" not in text:
        return None
    for match in reversed(list(_SEPARATOR.finditer(text))):
        chinese, english = text[:match.start()].strip(), text[match.end():].strip()
        if _CJK.search(chinese) and english:
            return chinese, english
    return None


def one_language(text: Any) -> Any:
    """The side of a "中文 / English" message in the current language; other text as it is.

    marshmallow's own English validation messages ("Missing data for required
    field.") are said in Chinese when the page or the API client reads Chinese.
    """
    if not isinstance(text, str) or not has_request_context():
        return text  # the CLI and the job worker keep both languages: their reader may read either
    pair = split_bilingual(text)
    if pair is None:
        return text if is_english() else validation_in_chinese(text)
    return pair[1] if is_english() else pair[0]


# marshmallow's and webargs's English messages, and what they say in Chinese.
_VALIDATION_ZH: list[tuple[re.Pattern, str]] = [(re.compile(pattern), chinese) for pattern, chinese in (
    (r"Missing data for required field\.", "必填"),
    (r"Unknown field\.", "未知字段"),
    (r"Field may not be null\.", "不能为空"),
    (r"Invalid value\.", "取值无效"),
    (r"Invalid (?:input )?type\.", "类型无效"),
    (r"Not a valid date\.", "日期无效（应为 YYYY-MM-DD）"),
    (r"Not a valid (?:naive |aware )?datetime\.", "日期时间无效（应为 ISO 8601 格式）"),
    (r"Not a valid integer\.", "应为整数"),
    (r"Not a valid number\.", "应为数字"),
    (r"Number too large\.", "数值过大"),
    (r"Not a valid boolean\.", "应为是或否（true/false）"),
    (r"Not a valid email address\.", "邮箱格式不正确"),
    (r"Not a valid string\.", "应为文本"),
    (r"Not a valid list\.", "应为列表"),
    (r"Not a valid mapping type\.", "应为对象"),
    (r"Not a valid (.+)\.", "格式无效"),
    (r"Must be one of: (?P<a>.+)\.", "取值应为：{a}"),
    (r"Longer than maximum length (?P<a>\d+)\.", "不超过 {a} 个字符"),
    (r"Shorter than minimum length (?P<a>\d+)\.", "至少 {a} 个字符"),
    (r"Length must be between (?P<a>\d+) and (?P<b>\d+)\.", "长度应在 {a} 到 {b} 之间"),
    (r"Length must be (?P<a>\d+)\.", "长度应为 {a}"),
    (r"Must be greater than or equal to (?P<a>\S+) and less than or equal to (?P<b>\S+)\.", "应在 {a} 到 {b} 之间"),
    (r"Must be greater than or equal to (?P<a>\S+)\.", "不小于 {a}"),
    (r"Must be less than or equal to (?P<a>\S+)\.", "不大于 {a}"),
    (r"Must be greater than (?P<a>\S+)\.", "大于 {a}"),
    (r"Must be less than (?P<a>\S+)\.", "小于 {a}"),
)]


def validation_in_chinese(text: str) -> str:
    """A marshmallow message in Chinese (the message itself when it is not one of theirs)."""
    for pattern, chinese in _VALIDATION_ZH:
        match = pattern.fullmatch(text)
        if match:
            return chinese.format(**match.groupdict())
    return text


def one_language_errors(errors: Any) -> Any:
    """:func:`one_language` over a nested ``{field: [messages]}`` structure."""
    if isinstance(errors, dict):
        return {key: one_language_errors(value) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [one_language_errors(value) for value in errors]
    return one_language(errors)


def _date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, style)


def _datetime(value: datetime | None, style: str = "medium") -> str:
    return "—" if value is None else format_datetime(value, style)


def _number(value) -> str:
    return "—" if value is None else format_decimal(value)


def _percent(value, digits: int = 1) -> str:
    return "—" if value is None else format_percent(value, format=f"#,##0.{'0' * digits}%")
