"""Instance settings: mail server, signing secrets, limits — from the environment unless given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Everything an instance may be configured with; each field reads LOOM_<NAME> from the environment."""

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "loom@localhost"
    webhook_secret: str = "change-me"
    webhook_timeout: float = 10.0
    rule_depth_limit: int = 8
    outbox_max_attempts: int = 12
    worker_interval: float = 30.0
    # Uploaded files: "local" (a folder, by default `files/` beside a SQLite database, else
    # instance/files) or "s3" (any S3-compatible store; credentials as AWS_* variables or below).
    files_backend: str = "local"
    files_dir: str = ""
    files_max_size_mb: float = 20.0  # for attachment fields that set no max_size_mb
    files_s3_bucket: str = ""
    files_s3_prefix: str = ""
    files_s3_endpoint: str = ""
    files_s3_region: str = ""
    files_s3_access_key: str = ""
    files_s3_secret_key: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(f"LOOM_{spec.name.upper()}")
            if raw is None or spec.name == "secrets":
                continue
            kind = type(spec.default)
            values[spec.name] = raw.lower() in ("1", "true", "yes", "on") if kind is bool else kind(raw)
        # Named secrets for webhook signatures: LOOM_SECRET_<NAME>=value → secrets["name"].
        values["secrets"] = {
            key[len("LOOM_SECRET_") :].lower(): value
            for key, value in environ.items()
            if key.startswith("LOOM_SECRET_")
        }
        return replace(cls(**values), **overrides)
