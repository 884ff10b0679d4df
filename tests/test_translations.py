"""The English catalogue: every message once, and every page string translated."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from registry.i18n import TRANSLATIONS_DIR

PO = TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "messages.po"


def test_every_message_id_appears_once_with_an_english_text():
    text = PO.read_text(encoding="utf-8")
    # A message is its context and its id: 计量标准 is "Standards" in the menu and "Standard" (context
    # "one standard") where one is meant.
    ids = re.findall(r'(?m)^(?:msgctxt "(.*)"\n)?msgid "(.*)"$', text)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"message ids given twice (one translation would be lost): {sorted(duplicates)}"
    from babel.messages.pofile import read_po

    with PO.open("rb") as source:
        catalog = read_po(source, locale="en")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert not untranslated, f"no English for: {untranslated}"


def test_template_strings_have_english():
    from babel.messages.pofile import read_po

    with PO.open("rb") as source:
        known = {m.id for m in read_po(source, locale="en") if m.id}
    root = Path(TRANSLATIONS_DIR).parent
    missing = set()
    for template in root.rglob("*.html"):
        for found in re.findall(r"""_\(\s*'([^']+)'""", template.read_text(encoding="utf-8")):
            if re.search(r"[\u4e00-\u9fff]", found) and found not in known:
                missing.add(f"{template.relative_to(root)}: {found}")
    assert not missing, "\n".join(sorted(missing))


# --- every message a person reads has its English; none mixes the two languages ---------------

CJK = re.compile(r"[\u3400-\u9fff]")
# "中文 / English words": two languages in one message.
MIXED = re.compile(r"[\u3400-\u9fff][^\n]*?\s/\s+[A-Za-z]+\s+[A-Za-z]+")
ROOT = Path(TRANSLATIONS_DIR).parent


def _catalog() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with PO.open("rb") as source:
        return {m.id: m.string for m in read_po(source, locale="en") if m.id}


def _extracted() -> dict[str, str]:
    """Every message id the code and templates pass to gettext, as Babel extracts them: ``{id: where}``."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**/templates/**.html", "jinja2"), ("templates/**.html", "jinja2"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
                "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(ROOT), method_map,
                                                                            keywords=keywords):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_extracted_message_has_english():
    """Templates, form labels, flashes and validation messages: Babel finds them, the catalogue translates them."""
    found = _extracted()
    assert "页面不存在" in found and "请求编号" in found and "证书编号" in found, "the extraction found nothing"
    known = _catalog()
    missing = sorted(f"{where}: {text}" for text, where in found.items() if CJK.search(text) and not known.get(text))
    assert not missing, "no English for:\n" + "\n".join(missing)


def test_no_catalogue_message_mixes_the_two_languages():
    mixed = [f"{mid} -> {text}" for mid, text in _catalog().items() if MIXED.search(mid) or MIXED.search(text)]
    assert not mixed, mixed


def _bilingual_literals():
    """``(where, text)`` of each string literal in the code written "中文 / English" (f-strings with ``{x}``)."""
    import ast

    for path in [*ROOT.rglob("*.py"), *(ROOT.parent / "importers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if CJK.search(text) and re.search(r"/\s+[A-Za-z]", text):
                yield f"{path.relative_to(ROOT.parent)}:{node.lineno}", text


def test_every_bilingual_service_message_is_shown_in_one_language():
    """Services, the CLI and the importer may write "中文 / English"; a page or API answer shows one side,
    so each such message must split cleanly (Chinese on the left, an English clause on the right)."""
    from registry.i18n import split_bilingual

    literals = list(_bilingual_literals())
    assert len(literals) > 50, "the scan found too few messages to be looking in the right place"
    bad = []
    for where, text in literals:
        pair = split_bilingual(text)
        if pair is None or not CJK.search(pair[0]) or not re.match(r"[\w'\"({\[]", pair[1]):
            bad.append(f"{where}: {text!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("text, zh, en", [
    ("不能早于 issued_on（2026-01-01）/ cannot be before issued_on (2026-01-01)",
     "不能早于 issued_on（2026-01-01）", "cannot be before issued_on (2026-01-01)"),
    ("取值应为 national / local / must be national or local", "取值应为 national / local", "must be national or local"),
    ("未知的建标层级：x，应为 省级/市级/县级 / unknown level x", "未知的建标层级：x，应为 省级/市级/县级", "unknown level x"),
    ("只是中文", None, None),
])
def test_a_bilingual_message_splits_at_the_change_of_language(text, zh, en):
    from registry.i18n import split_bilingual

    assert split_bilingual(text) == ((zh, en) if zh else None)


# --- history never shows a column's name -------------------------------------------------------

HISTORY_TABLES = ("measurement_standards", "institutions", "users", "regulations", "persons", "catalog_versions",
                  "catalog_lines")


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_every_column_a_history_can_show_has_a_label(app, table):
    """A record's history shows each changed column by its label (or leaves it out); never ``range_lower``."""
    from registry.audit.display import HIDDEN, entity_labels
    from registry.extensions import db

    columns = db.metadata.tables[table].columns.keys()
    with app.test_request_context():
        labels = entity_labels(table)
        unlabelled = [name for name in columns if name not in HIDDEN and name not in labels]
        assert not unlabelled, f"{table}: history would show {unlabelled}"
        english = {name: str(label) for name, label in labels.items()}
    assert all(not re.search(r"_[a-z]", label) for label in english.values()), english


def test_history_rows_name_columns_and_values_in_words(app):
    """A change as the importer records it: labels, a date as a date, the import named with its day."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from flask_babel import refresh

    from registry.audit.display import history_rows

    event = SimpleNamespace(entity_type="measurement_standards", action="update", actor_label="system",
                            note="导入 import: 标准.xlsx", occurred_at=datetime(2026, 12, 5, 8, tzinfo=timezone.utc),
                            changes={"valid_until": ("2029-01-31", "2030-01-31"), "range_lower": (0, 1),
                                     "status": ("in_use", "sealed")})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        [row] = history_rows([event])
        assert row.action == "Changed by the import of Dec 5, 2026" and row.actor == "System"
        assert [(c.label, c.before, c.after) for c in row.changes] == [
            ("Valid until", "Jan 31, 2029", "Jan 31, 2030"), ("Status", "In use", "Sealed")]
    with app.test_request_context():
        refresh()  # the locale is cached on the app context the test session keeps
        [row] = history_rows([event])
        assert row.action == "由 2026年12月5日 的导入修改" and row.actor == "系统"
        assert [c.label for c in row.changes] == ["有效期至", "状态"]
