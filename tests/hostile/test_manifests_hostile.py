"""`meshtui check -f` on hostile manifests: never a traceback, exit 2 naming what it skipped, and
nothing in the output that drives a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from meshtui.__main__ import build_parser
from meshtui.cli import check
from tests.hostile.counter import count
from tests.hostile.safety import is_safe
from tests.hostile.strategies import json_values, k8s_objects


def run_check(path: Path, *extra: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["check", "-f", str(path), *extra])
    out, err = io.StringIO(), io.StringIO()
    code = check.run(args, backend_factory=lambda _: None, stdout=out, stderr=err)  # type: ignore[arg-type,return-value]
    return code, out.getvalue(), err.getvalue()


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert is_safe(text), text


@given(objects=st.lists(k8s_objects(), min_size=1, max_size=4))
def test_malformed_objects_never_raise(tmp_path_factory, objects) -> None:
    path = tmp_path_factory.mktemp("m") / "objects.json"
    # One JSON document per line is a YAML stream of flow documents; surrogates survive as \\ud800.
    path.write_text("\n---\n".join(json.dumps(o) for o in objects))
    count("manifest objects", len(objects))
    code, out, err = run_check(path, "-o", "table")
    assert code in (0, 1, 2)
    assert_clean(out, err)
    if code == 2 and not out:
        assert err.count("\n") == 1  # a file-level error is one line


@given(doc=json_values)
def test_any_json_document(tmp_path_factory, doc) -> None:
    path = tmp_path_factory.mktemp("m") / "doc.json"
    path.write_text(json.dumps(doc))
    count("manifest documents")
    code, out, err = run_check(path)
    assert code in (0, 2)
    assert_clean(out, err)
