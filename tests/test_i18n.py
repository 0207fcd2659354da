"""The zh catalog is complete: every msgid of the app (zsdx/**.py, config.py, zsdx/templates/**.html) and every
Flask-AppBuilder msgid that FAB's own zh catalog lacks has a real translation, with the same placeholders.
None of these tests needs the app. To fix a failure: `bash scripts/catalog.sh`, translate what it lists in
translations/zh/LC_MESSAGES/messages.po (FAB strings go in translations/fab_zh_extra.po), then
`.venv/bin/pybabel compile -f -d translations -D messages`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
APP_PO = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
FAB_EXTRA_PO = ROOT / "translations" / "fab_zh_extra.po"

# %(name)s with optional flags, width, precision and any conversion.
NAMED = re.compile(r"%\((\w+)\)[#0\- +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")


def _pybabel(*args, cwd=ROOT):
    exe = Path(sys.executable).with_name("pybabel")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(cmd + ["-q", *args], cwd=cwd, check=True, capture_output=True, text=True)


def _read(path):
    with open(path, "rb") as f:
        return read_po(f)


def _ids(msg):
    return msg.id if isinstance(msg.id, (list, tuple)) else (msg.id,)


def _strings(msg):
    return msg.string if isinstance(msg.string, (list, tuple)) else (msg.string,)


def _translated(msg):
    return msg is not None and not msg.fuzzy and all(s and s.strip() for s in _strings(msg))


def _describe(msg):
    where = ", ".join(f"{path}:{line}" for path, line in msg.locations[:3])
    return f"  {msg.id!r}" + (f"  ({where})" if where else "")


@pytest.fixture(scope="module")
def app_catalog():
    return _read(APP_PO)


def test_every_app_msgid_is_translated(tmp_path, app_catalog):
    pot = tmp_path / "messages.pot"
    # The same extraction as scripts/catalog.sh.
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-o",
        str(pot),
        ".",
    )
    template = _read(pot)
    msgids = [m for m in template if m.id]
    assert msgids, "the extraction found no msgid at all: is babel.cfg right?"
    missing = [m for m in msgids if not _translated(app_catalog.get(m.id))]
    assert not missing, (
        f"{len(missing)} msgid(s) have no (non-fuzzy) zh translation in {APP_PO.relative_to(ROOT)}; "
        "run `bash scripts/catalog.sh` and translate:\n" + "\n".join(_describe(m) for m in missing)
    )


@pytest.mark.parametrize("po_path", [APP_PO, FAB_EXTRA_PO], ids=lambda p: p.name)
def test_placeholders_match(po_path):
    bad = []
    for msg in _read(po_path):
        if not msg.id or not any(_strings(msg)):
            continue
        wanted = {name for msgid in _ids(msg) for name in NAMED.findall(msgid)}
        if "python-format" not in msg.flags and not wanted:
            continue
        for string in _strings(msg):
            got = set(NAMED.findall(string))
            if got != wanted:
                bad.append(f"  {msg.id!r}: msgid has {sorted(wanted)}, msgstr {string!r} has {sorted(got)}")
                continue
            if wanted:
                try:  # a stray % (write %%) or an unknown conversion breaks the formatting at run time
                    string % {name: "1" for name in wanted}
                except (TypeError, ValueError, KeyError) as exc:
                    bad.append(f"  {msg.id!r}: msgstr {string!r} does not format: {exc}")
    assert not bad, f"placeholders differ in {po_path.relative_to(ROOT)}:\n" + "\n".join(bad)


def test_fab_extra_strings_are_in_the_app_catalog(app_catalog):
    extra = [m for m in _read(FAB_EXTRA_PO) if m.id]
    assert extra, f"{FAB_EXTRA_PO.relative_to(ROOT)} is empty"
    untranslated_extra = [m for m in extra if not _translated(m)]
    assert not untranslated_extra, f"untranslated or fuzzy in {FAB_EXTRA_PO.relative_to(ROOT)}:\n" + "\n".join(
        _describe(m) for m in untranslated_extra
    )
    missing = [m for m in extra if not _translated(app_catalog.get(m.id))]
    assert not missing, (
        f"{len(missing)} msgid(s) of {FAB_EXTRA_PO.relative_to(ROOT)} are missing from {APP_PO.relative_to(ROOT)}; "
        "run `bash scripts/catalog.sh`:\n" + "\n".join(_describe(m) for m in missing)
    )


def test_fab_strings_missing_from_fabs_zh_catalog_are_covered(tmp_path):
    """Guards a Flask-AppBuilder upgrade: a new FAB msgid without a zh translation shows in English."""
    import flask_appbuilder

    fab_dir = Path(flask_appbuilder.__file__).resolve().parent
    fab_zh = fab_dir / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    if not fab_zh.exists():
        pytest.skip("this Flask-AppBuilder ships no zh catalog source")
    cfg = tmp_path / "fab.cfg"
    cfg.write_text("[python: **.py]\n[jinja2: **/templates/**.html]\n")
    pot = tmp_path / "fab.pot"
    keywords = [
        "_",
        "gettext",
        "lazy_gettext",
        "_l",
        "lazy_formatter_gettext",
        "ngettext",
    ]
    _pybabel(
        "extract",
        "-F",
        str(cfg),
        *[a for k in keywords for a in ("-k", k)],
        "-o",
        str(pot),
        str(fab_dir),
    )
    fab_template = [m for m in _read(pot) if m.id]
    assert len(fab_template) > 100, "Flask-AppBuilder's extraction found too few msgids"
    fab_catalog = _read(fab_zh)
    extra = _read(FAB_EXTRA_PO)
    uncovered = [m for m in fab_template if not _translated(fab_catalog.get(m.id)) and not _translated(extra.get(m.id))]
    assert not uncovered, (
        f"Flask-AppBuilder msgids with no zh translation in FAB's catalog nor in {FAB_EXTRA_PO.relative_to(ROOT)} "
        "(`bash scripts/catalog.sh fab-missing` lists them):\n"
        + "\n".join(f"  {m.id!r}  ({os.path.relpath(ROOT / m.locations[0][0], fab_dir)})" for m in uncovered)
    )
