#!/usr/bin/env python3
"""Set zh translations from the command line: scripts/translate.py 'msgid=译文' ... (then compile)."""

import sys

from babel.messages.pofile import read_po, write_po

PO = "translations/zh/LC_MESSAGES/messages.po"


def main(pairs):
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="zh")
    for pair in pairs:
        msgid, _, msgstr = pair.partition("=")
        message = catalog.get(msgid)
        if message is None:
            sys.exit(f"not in the catalog: {msgid!r} (run scripts/catalog.sh first)")
        message.string = msgstr
        message.flags.discard("fuzzy")
    with open(PO, "wb") as fh:
        write_po(fh, catalog, width=100)


if __name__ == "__main__":
    main(sys.argv[1:])
