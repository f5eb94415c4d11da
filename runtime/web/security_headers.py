"""Headers every response carries so a browser refuses what Loom's pages never do: being framed by
another site, running script or loading styles from elsewhere, guessing a file's type, or telling
other sites which page a link was followed from."""

from __future__ import annotations

from flask import Flask, Response

# Style attributes carry per-value colours (badges, kanban columns); scripts and style sheets
# come only from Loom's own static folder.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response that does not set its own."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
