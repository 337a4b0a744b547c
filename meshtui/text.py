"""Untrusted text made safe to put on a terminal.

Names, labels, log lines and server messages come from pods and users; an ESC, CSI or OSC sequence
in them would move the cursor, retitle the window or hide text, a CR or LF inside a field forges
table rows, and bidi overrides make text read differently from what it is. Such characters are
shown as visible escapes (``\\x1b``, ``\\u202e``) so the input is still recognisable; text that is not
valid Unicode (lone surrogates) is escaped the same way.

Call these where text is rendered (table cells, messages, `meshtui logs`, check output), not
earlier: the model keeps the values as the cluster has them.
"""

from __future__ import annotations

from typing import Any

_BIDI_AND_SEPARATORS = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)
# Lone surrogates (from JSON "\ud800") cannot be encoded: printing one would raise.
_UNSAFE = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI_AND_SEPARATORS, *range(0xD800, 0xE000))


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_LINE = str.maketrans({code: _escape(code) for code in _UNSAFE})
# Multi-line text (YAML, diffs, help) keeps its newlines and tabs.
_TEXT = str.maketrans({code: _escape(code) for code in _UNSAFE if code not in (0x09, 0x0A)})


def safe_line(value: Any) -> str:
    """One field or one-line message: every control character (CR and LF included) escaped."""
    return str(value).translate(_LINE)


def safe_text(value: Any) -> str:
    """Multi-line text: newlines and tabs kept, every other control character escaped."""
    return str(value).translate(_TEXT)


def is_safe(text: str) -> bool:
    """True when the text has nothing :func:`safe_text` would escape (tests and assertions)."""
    return text == safe_text(text)
