#!/usr/bin/env bash
# Keep the zh catalog complete. Run from the repository root:
#
#   scripts/catalog.sh               extract the app's msgids into translations/messages.pot, update (or
#                                    create) translations/zh/LC_MESSAGES/messages.po without fuzzy matching,
#                                    merge in translations/fab_zh_extra.po, and list what is still untranslated
#   scripts/catalog.sh fab-missing   list Flask-AppBuilder msgids that FAB's own zh catalog lacks (missing,
#                                    empty or fuzzy) and translations/fab_zh_extra.po does not cover yet:
#                                    run it after upgrading Flask-AppBuilder and add what it prints
#
# Then compile: .venv/bin/pybabel compile -f -d translations -D messages
# tests/test_i18n.py fails while any msgid lacks a translation.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYBABEL="$VENV/bin/pybabel"
PYTHON="$VENV/bin/python"
POT=translations/messages.pot
PO=translations/zh/LC_MESSAGES/messages.po
FAB_EXTRA=translations/fab_zh_extra.po

if [[ "${1:-}" == "fab-missing" ]]; then
    # Flask-AppBuilder's strings, extracted the way FAB's own catalog is built, compared with its zh catalog.
    fab_dir=$("$PYTHON" -c 'import os, flask_appbuilder; print(os.path.dirname(flask_appbuilder.__file__))')
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    printf '[python: **.py]\n[jinja2: **/templates/**.html]\n' >"$tmp/fab.cfg"
    "$PYBABEL" -q extract -F "$tmp/fab.cfg" -k _ -k gettext -k lazy_gettext -k _l \
        -k lazy_formatter_gettext -k ngettext -o "$tmp/fab.pot" "$fab_dir"
    "$PYTHON" - "$fab_dir" "$tmp/fab.pot" "$FAB_EXTRA" <<'EOF'
import os
import sys

from babel.messages.pofile import read_po

fab_dir, pot_path, extra_path = sys.argv[1:]
fab_zh_path = os.path.join(fab_dir, "translations", "zh", "LC_MESSAGES", "messages.po")
with open(pot_path, "rb") as f:
    pot = read_po(f)
with open(fab_zh_path, "rb") as f:
    fab_zh = read_po(f)
extra = None
if os.path.exists(extra_path):
    with open(extra_path, "rb") as f:
        extra = read_po(f)

todo = 0
for msg in pot:
    if not msg.id:
        continue
    zh = fab_zh.get(msg.id)
    state = "missing" if zh is None else "fuzzy" if zh.fuzzy else "empty" if not zh.string else None
    if state is None:
        continue
    ours = extra.get(msg.id) if extra is not None else None
    if ours is not None and ours.string and not ours.fuzzy:
        continue
    todo += 1
    where = ", ".join(sorted({os.path.relpath(os.path.abspath(path), fab_dir) for path, _ in msg.locations}))
    print(f"{state:8} {msg.id!r}  ({where})")
print(f"{todo} Flask-AppBuilder msgid(s) to add to {extra_path}", file=sys.stderr)
sys.exit(1 if todo else 0)
EOF
    exit $?
fi

# 1. Extract the app's msgids (babel.cfg: zsdx/**.py, config.py, zsdx/templates/**.html).
"$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext --project zsdx -o "$POT" .

# 2. Update the zh catalog. -N: no fuzzy matching, because fuzzy entries are not compiled and would show
#    in English while looking translated.
if [[ -f "$PO" ]]; then
    "$PYBABEL" -q update -i "$POT" -d translations -l zh -N
else
    "$PYBABEL" -q init -i "$POT" -d translations -l zh
fi

# 3. Merge Flask-AppBuilder's missing zh strings (hand-maintained in fab_zh_extra.po). An entry is added
#    when the app catalog does not have it (or has it untranslated); the app's own translations win.
#    Flask-Babel loads FAB's catalog first and ours second, so ours also overrides FAB's where both exist.
"$PYTHON" - "$PO" "$FAB_EXTRA" <<'EOF'
import os
import sys

from babel.messages.pofile import read_po, write_po

po_path, extra_path = sys.argv[1:]
with open(po_path, "rb") as f:
    catalog = read_po(f)
if os.path.exists(extra_path):
    with open(extra_path, "rb") as f:
        extra = read_po(f)
    for msg in extra:
        if not msg.id:
            continue
        ours = catalog.get(msg.id)
        if ours is not None and ours.string and not ours.fuzzy:
            continue  # the app translates this msgid itself
        # `update` turned last run's merged entries obsolete (they are not in the .pot): revive them.
        catalog.obsolete.pop(msg.id, None)
        if ours is None:
            catalog.add(msg.id, msg.string, flags=msg.flags - {"fuzzy"},
                        auto_comments=["Flask-AppBuilder string, from translations/fab_zh_extra.po"],
                        user_comments=msg.user_comments)
        else:
            ours.string = msg.string
            ours.flags.discard("fuzzy")
with open(po_path, "wb") as f:
    write_po(f, catalog)

untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
for msgid in untranslated:
    print(f"untranslated: {msgid!r}", file=sys.stderr)
print(f"{po_path}: {sum(1 for m in catalog if m.id)} msgids, {len(untranslated)} untranslated", file=sys.stderr)
EOF
