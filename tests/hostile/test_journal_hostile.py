"""The journal on damaged, hostile or concurrent input: bad lines skipped with a warning naming the
line, good ones kept; two processes appending never interleave; an unusable state directory gives
one line and a read-only app."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshtui.change.journal import Journal, JournalEntry, JournalObject, JournalUnusable
from meshtui.config import Settings
from meshtui.factory import build_app
from meshtui.text import safe_line
from tests.hostile.counter import count
from tests.hostile.safety import is_safe
from tests.hostile.strategies import json_values, nasty_text
from tests.ui.pilot import notices, wait_for


def entry(i: int, title: str = "t") -> JournalEntry:
    obj = JournalObject("Namespace", "", f"ns-{i}", "label", {"metadata": {"name": f"ns-{i}"}}, None, "1")
    return JournalEntry(f"id-{i}", "2026-11-24T12:00:00Z", "ctx", title, (obj,))


bad_lines = st.one_of(
    st.binary(max_size=60).filter(lambda b: b"\n" not in b),
    json_values.map(lambda v: json.dumps(v).encode()),
    nasty_text.map(lambda t: t.replace("\n", " ").encode("utf-8", "surrogatepass")),
    st.integers(1, 300_000).map(lambda n: b"[" * n + b"]" * n),  # nested far deeper than json's recursion limit
    st.just(entry(0).to_json().encode()[:40]),  # a write cut short
)


@given(bad=st.lists(bad_lines, min_size=1, max_size=5), title=nasty_text)
def test_damaged_lines_are_skipped_and_named(tmp_path_factory, bad: list[bytes], title: str) -> None:
    path = tmp_path_factory.mktemp("j") / "journal.jsonl"
    good = entry(1, title).to_json().encode()
    path.write_bytes(b"\n".join([good, *bad, good]) + b"\n")
    count("journal lines", len(bad))
    started = time.monotonic()
    journal = Journal(path)
    entries = journal.entries()
    assert time.monotonic() - started < 5
    assert len(entries) >= 2 and entries[0].title == title
    for warning in journal.warnings:
        assert warning.startswith(f"{path}:") and ": skipped: " in warning and is_safe(safe_line(warning))


def test_a_truncated_last_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(entry(1).to_json().encode() + b"\n" + entry(2).to_json().encode()[:50])
    journal = Journal(path)
    count("journal lines")
    assert [e.id for e in journal.entries()] == ["id-1"]
    assert journal.warnings == [f"{path}:2: skipped: truncated (no end of line; an interrupted write?)"]


def _writer(path: str, start: int, n: int) -> None:
    journal = Journal(Path(path))
    for i in range(start, start + n):
        journal.append(entry(i, "x" * 20000))  # longer than a write buffer: a buffered writer splits it


def test_two_processes_appending_never_corrupt_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), k * 1000, 60)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    count("concurrent appends", 120)
    journal = Journal(path)
    assert len(journal.entries()) == 120 and journal.warnings == []


@pytest.mark.parametrize("kind", ["a file", "no permission"])
def test_an_unusable_state_dir_is_one_line(tmp_path: Path, kind: str) -> None:
    state = tmp_path / "state"
    if kind == "a file":
        state.write_text("")
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes through directory permissions")
        state.mkdir(mode=0o500)
    journal = Journal(state / "meshtui" / "journal.jsonl")
    count("state dirs")
    with pytest.raises(JournalUnusable) as info:
        journal.check_writable()
    assert "\n" not in str(info.value) and str(info.value).startswith("cannot write the change journal")


async def test_the_app_runs_read_only_when_the_journal_cannot_be_written(tmp_path: Path, make_demo_env,
                                                                         demo_backend) -> None:
    from meshtui.demo.clock import ManualClock

    (tmp_path / "state").write_text("")  # XDG_STATE_HOME is a file
    clock = ManualClock()
    app = build_app(Settings(), backend=demo_backend(clock), clock=clock.now)
    count("state dirs")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "runs read-only" in notices(app))
        assert app.settings.read_only and app.denied_reason("patch namespaces") == "read-only mode"
        assert notices(app).count("\n") == 0


@pytest.fixture
def make_demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
