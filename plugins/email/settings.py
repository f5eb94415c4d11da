"""The SMTP server the e-mail channel hands messages to: LOOM_SMTP_HOST, LOOM_SMTP_PORT, …"""

from __future__ import annotations

from dataclasses import dataclass

from engine.plugin_api import EnvSettings


@dataclass(frozen=True)
class EmailSettings(EnvSettings):
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "loom@localhost"
