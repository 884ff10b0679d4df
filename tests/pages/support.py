"""Helpers the reference-registry page tests share."""
from __future__ import annotations

import re
from html.parser import HTMLParser


def csrf_from(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def field_errors(response, field: str) -> str:
    """The error list the page shows beside one form field ('' when none)."""
    match = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', response.get_data(as_text=True),
                      re.S)
    return match.group(1) if match else ""


class _FormValues(HTMLParser):
    """What a browser would submit from the page's ``form.record``, as it stands."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "record" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form or not a.get("name") and tag != "option":
            return
        if tag == "input":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "y")
            elif a.get("type") != "submit":
                self.values[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
            self.values.setdefault(a["name"], "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea:
                self.values[self._textarea] = self.values[self._textarea].lstrip("\n")
            self._textarea = None


def form_values(response) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(response.get_data(as_text=True))
    return parser.values


def post_form(client, url: str, data: dict, *, form_url: str | None = None):
    """Open the form page, then post it as a browser would with ``data`` typed over its fields."""
    page = client.get(form_url or url)
    assert page.status_code == 200, page.status_code
    values = form_values(page)
    assert "csrf_token" in values, "the form has no CSRF token"
    return client.post(url, data={**values, **data})


def rows(response) -> int:
    """How many record rows a list page shows."""
    body = response.get_data(as_text=True)
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    return tbody.count("<tr")
