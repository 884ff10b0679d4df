"""Helpers the reference-registry page tests share."""
from __future__ import annotations

import re


def csrf_from(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


def field_errors(response, field: str) -> str:
    """The error list the page shows beside one form field ('' when none)."""
    match = re.search(rf'<ul class="field-errors" id="{field}-errors">(.*?)</ul>', response.get_data(as_text=True),
                      re.S)
    return match.group(1) if match else ""


def post_form(client, url: str, data: dict, *, form_url: str | None = None):
    """Open the form page (for its CSRF token and version), then post ``data`` over its hidden fields."""
    page = client.get(form_url or url)
    assert page.status_code == 200, page.status_code
    hidden = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*type="hidden"[^>]*value="([^"]*)"', page.get_data(as_text=True)))
    hidden.update(re.findall(r'<input[^>]*type="hidden"[^>]*name="(\w+)"[^>]*value="([^"]*)"', page.get_data(as_text=True)))
    hidden["csrf_token"] = csrf_from(page)
    return client.post(url, data={**hidden, **data})


def rows(response) -> int:
    """How many record rows a list page shows."""
    body = response.get_data(as_text=True)
    tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    return tbody.count("<tr")
