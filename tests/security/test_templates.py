"""No template has inline script, inline event handlers or style attributes: the CSP would refuse them.

Emails are exempt from the style rule: mail clients need inline styles, and no CSP applies there.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
TAG = re.compile(r"<([a-zA-Z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S)
EVENT_HANDLER = re.compile(r"(?:^|\s)(on[a-z]+|hx-on[\w:-]*|data-hx-on[\w:-]*)\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"(?:^|\s)style\s*=", re.I)
SRC = re.compile(r"(?:^|\s)src\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"=\s*[\"']?\s*javascript:", re.I)


def _problems(text: str, *, email: bool = False) -> list[str]:
    found = []
    for match in TAG.finditer(text):
        name, attributes = match.group(1).lower(), match.group(2)
        if name == "script" and not SRC.search(attributes):
            found.append(f"inline script: {match.group(0)}")
        if EVENT_HANDLER.search(attributes):
            found.append(f"inline event handler: {match.group(0)}")
        if JAVASCRIPT_URL.search(attributes):
            found.append(f"javascript: URL: {match.group(0)}")
        if STYLE_ATTRIBUTE.search(attributes) and not email:
            found.append(f"style attribute: {match.group(0)}")
    if re.search(r"<style\b(?![^>]*\bnonce=)", text, re.I) and not email:
        found.append("<style> element without the CSP nonce")
    return found


def _templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*") if path.suffix in {".html", ".txt", ".svg", ".js"})


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="module">go()</script>',
        '<button type="button" onclick="go()">Go</button>',
        '<body onload="go()">',
        '<form hx-on::after-request="this.reset()">',
        '<div hx-on:click="go()">',
        '<a href="javascript:go()">',
        '<p style="color: red">',
        "<style>p { color: red }</style>",
    ],
)
def test_the_scan_finds_inline_code_and_styles(snippet):
    assert _problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/app.js" defer nonce="{{ csp_nonce }}"></script>',
        '<button type="submit" class="button" data-online="yes">Go</button>',
        '<input name="one" value="{{ x }}">',
        '<style nonce="{{ csp_nonce }}">p { margin: 0 }</style>',
    ],
)
def test_the_scan_lets_script_files_and_plain_markup_pass(snippet):
    assert _problems(snippet) == []


def test_there_are_templates_to_scan():
    assert len(_templates()) > 50


def test_no_template_has_inline_script_handlers_or_styles():
    found = {}
    for path in _templates():
        email = "email" in path.relative_to(TEMPLATES).parts
        if problems := _problems(path.read_text(encoding="utf-8"), email=email):
            found[str(path.relative_to(TEMPLATES))] = problems

    assert found == {}
