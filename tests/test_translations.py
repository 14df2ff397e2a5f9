"""Every shipped language is complete: each message translated (every plural form), the same
placeholders as the English, nothing left fuzzy, the compiled catalogue (.mo) built from the
current .po, and the .po up to date with the code and templates (where gettext's tools are here)."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdfi]|%[sdfi]|\{[a-z_0-9]+\}")


def entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr or msgstr[n], and flags."""
    found, entry, field = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                found.append(entry)
            entry, field = {}, None
        elif line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _space, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return [e for e in found if e["msgid"]]  # the header has an empty msgid


def forms(entry: dict) -> list[str]:
    return [value for key, value in sorted(entry.items()) if key.startswith("msgstr")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language):
    problems = []
    for entry in entries(LOCALE / language / "LC_MESSAGES" / "django.po"):
        source = entry["msgid"]
        if "fuzzy" in entry.get("flags", ()):
            problems.append(f"fuzzy: {source!r}")
        for form in forms(entry):
            wanted = {*PLACEHOLDER.findall(source), *PLACEHOLDER.findall(entry.get("msgid_plural", ""))}
            if not form.strip():
                problems.append(f"untranslated: {source!r}")
            elif not set(PLACEHOLDER.findall(form)) <= wanted or (
                "msgid_plural" not in entry and sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(source))
            ):
                problems.append(f"placeholders differ: {source!r} -> {form!r}")
    assert not problems, f"{language}: {len(problems)} problems\n" + "\n".join(problems[:30])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_built_from_the_current_po(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)._catalog
    stale = []
    for entry in entries(folder / "django.po"):
        key = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
        if "msgid_plural" in entry:
            translated = [catalogue.get((key, n)) for n in range(len(forms(entry)))]
        else:
            translated = [catalogue.get(key)]
        if translated != forms(entry):
            stale.append(entry["msgid"])
    assert not stale, f"{language}: run `manage.py compilemessages`; {len(stale)} differ, e.g. {stale[:3]}"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs gettext's tools (CI installs them)")
def test_the_catalogues_hold_every_message_of_the_code_and_templates(tmp_path):
    """makemessages run afresh finds no message the shipped .po files lack."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns(".*", "node_modules", "staticfiles", "*.sqlite3", "media", "__pycache__", "results")
    shutil.copytree(root, copy, ignore=ignore)
    shutil.rmtree(copy / "locale")
    (copy / "locale" / "uk").mkdir(parents=True)
    command = ["manage.py", "makemessages", "-l", "uk", "--no-location", "--ignore=tests/*", "--ignore=bench/*"]
    subprocess.run(
        [sys.executable, *command], cwd=copy, check=True, capture_output=True, env={**os.environ, "DEBUG": "1"}
    )
    fresh = {e["msgid"] for e in entries(copy / "locale" / "uk" / "LC_MESSAGES" / "django.po")}
    shipped = {e["msgid"] for e in entries(LOCALE / "uk" / "LC_MESSAGES" / "django.po")}
    assert not fresh - shipped, f"run makemessages and translate: {sorted(fresh - shipped)[:10]}"
