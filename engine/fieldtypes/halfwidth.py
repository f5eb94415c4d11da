"""Full-width to half-width conversion of typed input, as Chinese and Japanese input methods produce it."""

from __future__ import annotations

import re

# Full-width ASCII (U+FF01..U+FF5E) maps one-to-one onto U+0021..U+007E; the ideographic space and the
# full-width currency signs map to their narrow forms. Nothing else changes, unlike NFKC, which would
# also turn "²" into "2" or "①" into "1".
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, 0xFFE0: 0xA2, 0xFFE1: 0xA3, 0xFFE5: 0xA5, 0xFFE6: 0x20A9})
# Searching for them is a fast scan; translating looks every character up in the table.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000\uffe0\uffe1\uffe5\uffe6]")


def half_width(text: str) -> str:
    """Return `text` with full-width letters, digits, punctuation and spaces made half-width."""
    # Plain ASCII, and Chinese typed without full-width forms (the common cases), are returned untouched.
    if text.isascii() or _FULL_WIDTH.search(text) is None:
        return text
    return text.translate(_HALF_WIDTH)


def typed_number_text(text: str) -> str:
    """What a person typed for a number or an id, trimmed and in half-width characters."""
    return text.strip() if text.isascii() else half_width(text).strip()
