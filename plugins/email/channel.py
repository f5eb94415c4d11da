"""The "email" channel: hands a queued message to the SMTP server named in the settings."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from engine.plugin_api import Channel, OutboxMessage
from plugins.email.settings import EmailSettings

SMTP_TIMEOUT = 30.0
IMPLICIT_TLS_PORT = 465  # "submissions" (RFC 8314): TLS from the first byte rather than STARTTLS


def message_id(key: str, mail_from: str) -> str:
    """A Message-ID made from the idempotency key and the sender's domain: a resent copy has the same."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "loom.localhost"
    return f"<loom.{digest}@{domain}>"


def build_message(message: OutboxMessage, settings: EmailSettings) -> EmailMessage:
    body = message.message
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = ", ".join(body["to"])
    mail["Subject"] = body["subject"]  # non-ASCII is encoded as RFC 2047 UTF-8 words
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id(message.key, settings.mail_from)
    mail["X-Loom-Idempotency-Key"] = message.key
    text = body["body"]
    # Base64 keeps non-ASCII text intact through servers that do not take 8-bit bodies.
    mail.set_content(text, charset="utf-8", cte=None if text.isascii() else "base64")
    return mail


class EmailChannel(Channel):
    name = "email"
    settings = EmailSettings

    def deliver(self, message: OutboxMessage, settings: EmailSettings) -> None:
        mail = build_message(message, settings)
        with _connect(settings) as smtp:
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            # Raises when every recipient is refused (the outbox retries). A partly refused message
            # was accepted for the others; resending it would duplicate theirs.
            # The envelope takes bare addresses: a display name such as "王芳" belongs in the header only.
            smtp.send_message(mail, to_addrs=[parseaddr(to)[1] for to in message.message["to"]])


def _connect(settings: EmailSettings) -> smtplib.SMTP:
    # An explicit context: without one, smtplib's TLS does not verify the server's certificate.
    context = ssl.create_default_context()
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context)
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    if settings.smtp_starttls:
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp
