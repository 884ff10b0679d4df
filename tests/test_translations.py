"""The English catalogue: every message once, and every page string translated."""
from __future__ import annotations

import re
from pathlib import Path

from registry.i18n import TRANSLATIONS_DIR

PO = TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "messages.po"


def test_every_message_id_appears_once_with_an_english_text():
    text = PO.read_text(encoding="utf-8")
    ids = re.findall(r'(?m)^msgid "(.*)"$', text)
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
