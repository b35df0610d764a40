"""docs/security.md's role-by-route matrix is what the views' policies say."""

from __future__ import annotations

from pathlib import Path

from intake.security import matrix

DOCUMENT = Path(__file__).parents[2] / "docs" / "security.md"


def test_the_documented_matrix_is_the_policies(app):
    written = DOCUMENT.read_text()
    assert matrix.BEGIN in written and matrix.END in written
    assert matrix.rewrite(written, app) == written, (
        "the routes' policies changed: run `python -m intake.security.matrix docs/security.md`"
    )


def test_the_matrix_says_who_may_do_what(app):
    rows = {line.split(" | ")[0].strip("| `") + " " + line.split(" | ")[1]: line
            for line in matrix.table(app).splitlines()[2:]}
    assert rows["/desk/audit GET"].endswith("| - | - | - | yes | - |")
    assert rows["/desk/registrations/<reference> GET"].endswith("| - | yes | yes | - | - |")
    assert rows["/api/v1/batches GET"].endswith("| scope authority |")
    assert "| at code |" in rows["/desk/code GET,POST"]


def test_every_test_the_threat_model_cites_exists():
    import re

    root = DOCUMENT.parents[1]
    cited = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`", DOCUMENT.read_text())
    last_file = None
    missing = []
    for path, name, same_file_name in cited:
        last_file = path or last_file
        source = (root / last_file).read_text() if (root / last_file).exists() else None
        wanted = name or same_file_name
        if source is None or (wanted and f"def {wanted}(" not in source):
            missing.append(f"{last_file}::{wanted}")
    assert cited and not missing
