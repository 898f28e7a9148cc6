"""Simplified Chinese by default, English on request, and a complete, compiled zh-Hans catalogue.

The catalogue checks read the .po with a small parser (no polib) and compare it with what the
compiled .mo holds, as Python's gettext loads it: a stale .mo (not recompiled after a change to
the .po) fails, as does any untranslated or fuzzy entry.
"""

from __future__ import annotations

import ast
import gettext
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
CATALOGUES = ["django"] + (["djangojs"] if (LC_MESSAGES / "djangojs.po").exists() else [])
# The Makefile's MESSAGES_IGNORE (what `make messages` skips).
MESSAGES_IGNORE = [".venv/*", "staticfiles/*", "tests/*", "bench/*", "var/*"]


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """The live (not obsolete) entries of a .po file."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#~"):
            continue  # obsolete
        elif line.startswith("#,"):
            if target is not None:
                flush()
            entry.fuzzy = "fuzzy" in line
        elif line.startswith("#"):
            if target is not None:
                flush()
        elif line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            value = ast.literal_eval(line)
            keyword, index = target
            if keyword == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, keyword, (getattr(entry, keyword) or "") + value)
        else:
            keyword, _, rest = line.partition(" ")
            if keyword == "msgctxt" and target is not None and target[0] == "msgstr":
                flush()
            if keyword == "msgid" and target is not None and target[0] == "msgstr":
                flush()
            value = ast.literal_eval(rest)
            entry.line = entry.line or number
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                entry.msgstr[index] = value
                target = ("msgstr", index)
            else:
                assert keyword in ("msgctxt", "msgid", "msgid_plural"), f"{path}:{number}"
                setattr(entry, keyword, value)
                target = (keyword, 0)
    flush()
    return entries


def po_catalog(entries: list[Entry]) -> dict[object, str]:
    """What gettext should load: the same keys GNUTranslations builds from a .mo."""
    catalog: dict[object, str] = {}
    for e in entries:
        if not e.msgid or e.fuzzy or not any(e.msgstr.values()):
            continue  # msgfmt leaves these out
        key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            catalog[key] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                catalog[(key, index)] = text
    return catalog


@pytest.mark.parametrize("domain", CATALOGUES)
def test_every_message_has_a_chinese_translation(domain: str) -> None:
    po = LC_MESSAGES / f"{domain}.po"
    assert po.exists(), f"{po} is missing: run `make messages` and translate"
    entries = [e for e in parse_po(po) if e.msgid]
    assert entries, f"{po} has no messages"
    missing = [
        f"{po.name}:{e.line}: {e.msgid!r}"
        for e in entries
        if e.fuzzy or not e.msgstr or not all(text.strip() for text in e.msgstr.values())
    ]
    assert not missing, "untranslated or fuzzy:\n" + "\n".join(missing[:50])


@pytest.mark.parametrize("domain", CATALOGUES)
def test_the_compiled_catalogue_matches_the_po_file(domain: str) -> None:
    po, mo = LC_MESSAGES / f"{domain}.po", LC_MESSAGES / f"{domain}.mo"
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    with mo.open("rb") as fh:
        compiled = dict(gettext.GNUTranslations(fh)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)  # the header
    assert compiled == po_catalog(parse_po(po)), f"{mo.name} is stale: run `make messages`"


def test_the_parser_reads_contexts_plurals_continuations_and_fuzzy(tmp_path: Path) -> None:
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: a.py:1\nmsgctxt "unit"\nmsgid "Available"\nmsgstr "空闲"\n\n'
        'msgid "%(n)d token"\nmsgid_plural "%(n)d tokens"\nmsgstr[0] "%(n)d 个"\n\n'
        '#, fuzzy\nmsgid "Old"\nmsgstr "旧"\n\n'
        'msgid ""\n"Long "\n"text"\nmsgstr ""\n"长"\n"文本"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "无"\n',
        encoding="utf-8",
    )
    assert po_catalog(parse_po(po)) == {
        "unit\x04Available": "空闲",
        ("%(n)d token", 0): "%(n)d 个",
        "Long text": "长文本",
    }
    assert [e.fuzzy for e in parse_po(po) if e.msgid == "Old"] == [True]


@pytest.mark.django_db
def test_the_admin_speaks_simplified_chinese_by_default() -> None:
    response = Client().get("/admin/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in html
    assert "用户名" in html and "Username" not in html


@pytest.mark.django_db
def test_the_admin_speaks_english_when_the_browser_asks() -> None:
    response = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Username" in html and "用户名" not in html


@pytest.mark.django_db
def test_our_own_strings_are_translated_on_the_login_page() -> None:
    header = po_catalog(parse_po(LC_MESSAGES / "django.po")).get("Simao 110 dispatch")
    assert header, "the site header is not in the zh-Hans catalogue"
    assert header in Client().get("/admin/login/").content.decode()


def test_the_parser_agrees_with_msgfmt_on_djangos_admin_catalogue() -> None:
    import django.contrib.admin

    messages = Path(django.contrib.admin.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
    with (messages / "django.mo").open("rb") as fh:
        compiled = dict(gettext.GNUTranslations(fh)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)
    assert len(compiled) > 100
    assert po_catalog(parse_po(messages / "django.po")) == compiled


def msgids(entries: list[Entry]) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in entries if e.msgid}


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msguniq") is None,
    reason="GNU gettext (xgettext) is not installed; `make test` installs it "
    "(scripts/ensure-sysdeps gettext)",
)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_marked_in_the_source_is_in_the_catalogue(
    domain: str, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extract the messages afresh, as `make messages` does, but into a temporary directory: a
    string marked for translation in the code or a template but missing from the committed .po
    fails here.

    makemessages writes into the first `locale` directory above the sources it walks, so it walks
    a temporary tree of symlinks to the project's top-level entries without `locale/`, and writes
    to LOCALE_PATHS (a temporary directory) instead of the committed catalogue.
    """
    base = Path(settings.BASE_DIR)
    root = tmp_path / "src"
    root.mkdir()
    for entry in base.iterdir():
        if entry.name != "locale" and not entry.name.startswith("."):
            (root / entry.name).symlink_to(entry)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(root)
    call_command(
        "makemessages",
        locale=["zh_Hans"],
        domain=domain,
        ignore_patterns=MESSAGES_IGNORE,
        symlinks=True,
        no_obsolete=True,
        verbosity=0,
    )
    extracted = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    if domain == "django":
        assert extracted.exists(), "makemessages extracted nothing: the extraction is broken"
    fresh = msgids(parse_po(extracted)) if extracted.exists() else set()
    committed = LC_MESSAGES / f"{domain}.po"
    known = msgids(parse_po(committed)) if committed.exists() else set()
    missing = sorted(fresh - known, key=lambda key: (key[1], key[0] or ""))
    assert not missing, (
        f"{len(missing)} message(s) not in {committed.name}: run `make messages` and translate:\n"
        + "\n".join(f"{ctx + chr(4) if ctx else ''}{msgid!r}" for ctx, msgid in missing[:50])
    )
