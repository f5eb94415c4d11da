"""What a file really is, from its first bytes: an upload's name and declared type are not trusted."""

from __future__ import annotations

import mimetypes

# Raster images a browser may show inline; SVG is left out on purpose (it can carry script).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"BM", 0, "image/bmp"),
    (b"%PDF-", 0, "application/pdf"),
)
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
SNIFF_BYTES = 64
UNKNOWN = "application/octet-stream"
# Office documents and archives are ZIP files inside; their names say which, and a wrong name
# only changes the icon: they are always downloaded, never shown.
_BY_NAME_ONLY = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/zip",
        "text/csv",
        "text/plain",
    }
)


def sniffed_type(head: bytes) -> str | None:
    """The type the content proves, or None when its first bytes prove nothing."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for signature, offset, kind in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return kind
    return None


def named_type(name: str) -> str | None:
    """The type a file's name claims (`.png` → image/png), or None."""
    return mimetypes.guess_type(name, strict=False)[0]


def content_type(name: str, head: bytes) -> str:
    """The type Loom records: proven by content, else taken from the name for harmless kinds only."""
    proven = sniffed_type(head)
    if proven is not None:
        return proven
    claimed = named_type(name)
    return claimed if claimed in _BY_NAME_ONLY else UNKNOWN


def claims_image(name: str) -> bool:
    return (named_type(name) or "").startswith("image/")
