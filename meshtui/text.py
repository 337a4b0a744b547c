"""Untrusted text made safe to put on a terminal.

Names, labels, log lines and server messages come from pods and users; an ESC, CSI or OSC sequence
in them would move the cursor, retitle the window or hide text, a CR or LF inside a field forges
table rows, and bidi overrides make text read differently from what it is. Each such character is
replaced by one visible character: C0 controls by their Unicode control picture (ESC → ␛, LF → ␊,
NUL → ␀), everything else (DEL, C1 controls such as the one-byte CSI, bidi overrides, line
separators, lone surrogates that cannot even be encoded) by �. One character for one keeps Rich
styles and column widths aligned.

Call these where text is rendered (table cells, the header, messages, log lines, `meshtui logs`,
check output), not earlier: the model keeps the values as the cluster has them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

_REPLACEMENT = "\ufffd"
_OTHER_UNSAFE = (0x7F, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                 *range(0x2066, 0x206A), 0x2028, 0x2029, *range(0xD800, 0xE000))
_C0 = {code: chr(0x2400 + code) for code in range(0x20)}
_LINE = str.maketrans({**_C0, **dict.fromkeys(_OTHER_UNSAFE, _REPLACEMENT)})
# Multi-line text (YAML, diffs, explanations) keeps its newlines and tabs.
_TEXT = str.maketrans({code: value for code, value in _LINE.items() if code not in (0x09, 0x0A)})


def safe_line(value: Any) -> str:
    """One field or one-line message: every control character (CR and LF included) made visible."""
    return str(value).translate(_LINE)


def safe_text(value: Any) -> str:
    """Multi-line text: newlines and tabs kept, every other control character made visible."""
    return str(value).translate(_TEXT)


def safe_rich(text: Text, *, multiline: bool = False) -> Text:
    """A Rich Text with its characters made safe, its styles kept (replacements are one for one)."""
    plain = text.plain
    clean = safe_text(plain) if multiline else safe_line(plain)
    if clean == plain:
        return text
    copy = text.copy()
    copy.plain = clean
    return copy


# JSON encoders escape C0 controls themselves; the rest of what a terminal acts on is escaped as \uXXXX.
_JSON = str.maketrans({code: f"\\u{code:04x}" for code in _OTHER_UNSAFE})


def safe_json_bytes(data: bytes) -> bytes:
    """UTF-8 JSON (from a fast encoder, which escapes only C0 controls) that cannot drive a terminal:
    every other control character escaped as \\uXXXX. ASCII without DEL, the usual case, passes
    through untouched."""
    if data.isascii() and b"\x7f" not in data:
        return data
    return data.decode("utf-8", "replace").translate(_JSON).encode()
