"""The visibility layer is the only way views load scoped records (zsdx/visibility.py): a view that calls
db.session.get/query on a scoped model directly fails here, so a new chapter cannot quietly bypass it."""

import ast
import os

from zsdx.visibility import scoped_models

VIEWS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zsdx", "views")
# A line may opt out only by saying why, e.g. a uniqueness check that reads no row:  # not a row load: …
EXEMPT = "# not a row load:"


def _direct_loads(path, names):
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if not (node.func.attr in ("get", "query") and ast.unparse(owner) == "db.session" and node.args):
            continue
        first = node.args[0]
        target = first.value if isinstance(first, ast.Attribute) else first  # Model or Model.column
        if isinstance(target, ast.Name) and target.id in names:
            line = lines[node.lineno - 1]
            if EXEMPT not in line and EXEMPT not in lines[node.lineno - 2]:
                found.append(f"{os.path.basename(path)}:{node.lineno}: {line.strip()}")
    return found


def test_views_load_scoped_models_only_through_the_visibility_layer(app):
    names = {m.__name__ for m in scoped_models()}
    assert {"Filing", "PreDiagnosis", "InfoChangeRequest", "AssessmentResult", "Notification", "Message"} <= names
    found = []
    for name in sorted(os.listdir(VIEWS)):
        if name.endswith(".py"):
            found += _direct_loads(os.path.join(VIEWS, name), names)
    assert found == [], "direct loads of scoped models in views:\n" + "\n".join(found)


def test_the_scan_catches_a_direct_load(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "def f(pk):\n    return db.session.get(Filing, pk)\n\ndef g():\n    return db.session.query(Filing.id).all()\n"
    )
    assert len(_direct_loads(str(bad), {"Filing"})) == 2
