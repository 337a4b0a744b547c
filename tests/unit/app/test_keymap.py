from pathlib import Path

import pytest

from meshtui.bindings import all_bindings, known_ids
from meshtui.keymap import load_keymap, valid_key
from meshtui.resources import bundled, bundled_names


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("q", True), ("G", True), ("?", True), ("ctrl+r", True), ("shift+tab", True), ("f5", True),
        ("question_mark", True), ("slash", True), ("escape", True), ("ctrl+shift+left", True),
        ("", False), ("ctrl+", False), ("hyperspace", False), ("cmd+x", False), ("not_a_key_name", False),
    ],
)
def test_valid_key(key: str, ok: bool) -> None:
    assert valid_key(key) is ok


def test_every_binding_has_an_id_and_the_default_keymap_lists_them_all() -> None:
    ids = [b.id for b in all_bindings()]
    assert len(ids) == len(set(ids))
    default = load_keymap("default", known_ids, check_bundled=True)
    assert default.problems == ()
    # The default keymap documents every binding: a new binding without an entry fails here.
    assert {b.id for b in all_bindings()} == set(default.bindings)


@pytest.mark.parametrize("name", bundled_names("keymaps"))
def test_bundled_keymaps_load_cleanly(name: str) -> None:
    keymap = load_keymap(name, known_ids, check_bundled=True)
    assert keymap.problems == ()


def test_vim_overrides_single_ids_over_default() -> None:
    vim = load_keymap("vim", known_ids)
    assert vim.bindings["nav.bottom"] == "G"
    assert vim.bindings["app.quit"] == "q"  # not in vim.yaml: inherited from default


def test_user_file_overrides_one_id(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("main.explain: x\n")
    keymap = load_keymap(str(path), known_ids)
    assert keymap.problems == ()
    assert keymap.bindings["main.explain"] == "x"
    assert keymap.bindings["main.logs"] == "l"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("main.teleport: x\n", "unknown binding id 'main.teleport'"),
        ("main.explain: hyperspace\n", "'main.explain': invalid key 'hyperspace'"),
        ("main.explain: 3\n", "'main.explain' must be a key string"),
        ("main.explain: [x\n", "invalid YAML"),
    ],
)
def test_bad_user_keymap_names_file_and_entry_and_keeps_defaults(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("main.logs: o\n" + text)
    keymap = load_keymap(str(path), known_ids)
    assert any(message in p and str(path) in p for p in keymap.problems), keymap.problems
    # Nothing of the broken file is applied, not even its valid entries.
    assert keymap.bindings["main.logs"] == "l"


def test_missing_keymap_file(tmp_path: Path) -> None:
    keymap = load_keymap(str(tmp_path / "nope.yaml"), known_ids)
    assert keymap.problems and "no such file" in keymap.problems[0]
    assert keymap.bindings["main.logs"] == "l"


def test_bundled_folders_exist() -> None:
    assert (bundled("keymaps") / "default.yaml").is_file()
    assert {"meshtui-dark", "meshtui-light", "meshtui-high-contrast"} <= set(bundled_names("themes"))


@pytest.mark.parametrize("name", bundled_names("keymaps"))
def test_start_up_does_not_import_every_screen_for_a_bundled_keymap(name: str) -> None:
    # known_ids imports each screen that owns a binding; the bundled files are checked above instead.
    def refuse() -> set[str]:
        raise AssertionError("known_ids called for a bundled keymap")

    assert load_keymap(name, refuse).bindings == load_keymap(name, known_ids, check_bundled=True).bindings


def test_a_user_keymap_is_checked_against_the_binding_ids(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("main.explain: x\n")
    calls: list[int] = []

    def ids() -> set[str]:
        calls.append(1)
        return known_ids()

    load_keymap(str(path), ids)
    assert calls == [1]
