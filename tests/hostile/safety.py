"""What the hostile-input tests hold every shown text to."""

from __future__ import annotations

from meshtui.text import safe_text


def is_safe(text: str) -> bool:
    """True when the text has nothing :func:`meshtui.text.safe_text` would replace."""
    return text == safe_text(text)
