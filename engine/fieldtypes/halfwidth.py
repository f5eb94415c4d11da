"""Full-width to half-width conversion of typed input, as Chinese and Japanese input methods produce it."""

from __future__ import annotations

# Full-width ASCII (U+FF01..U+FF5E) maps one-to-one onto U+0021..U+007E; the ideographic space and the
# full-width currency signs map to their narrow forms. Nothing else changes, unlike NFKC, which would
# also turn "²" into "2" or "①" into "1".
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, 0xFFE0: 0xA2, 0xFFE1: 0xA3, 0xFFE5: 0xA5, 0xFFE6: 0x20A9})


def half_width(text: str) -> str:
    """Return `text` with full-width letters, digits, punctuation and spaces made half-width."""
    # isascii() is a fast scan, so plain ASCII input (the common case) is returned untouched.
    return text if text.isascii() else text.translate(_HALF_WIDTH)
