"""Instance settings (limits, files, the worker) from LOOM_<NAME> variables unless given.

Plugins declare their own settings the same way (`EnvSettings`), so the engine's know nothing of
SMTP servers or webhook signing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self


class EnvSettings:
    """A frozen dataclass of settings, each field read from LOOM_<FIELD> (or the field's `env`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):  # type: ignore[arg-type]
            name = spec.metadata.get("env", f"LOOM_{spec.name.upper()}")
            raw = environ.get(name) if name else None
            if raw is None:
                continue
            kind = type(spec.default)
            values[spec.name] = raw.lower() in ("1", "true", "yes", "on") if kind is bool else kind(raw)
        values |= cls.extra_from_env(environ)
        return replace(cls(**values), **overrides)  # type: ignore[type-var]

    @classmethod
    def extra_from_env(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        """Values a subclass reads in its own way (e.g. a family of variables); none by default."""
        return {}


def env_field(variable: str, default: Any) -> Any:
    """A settings field read from a variable other than LOOM_<FIELD>."""
    return field(default=default, metadata={"env": variable})


@dataclass(frozen=True)
class Settings(EnvSettings):
    """What the engine may be configured with; each field reads LOOM_<NAME> from the environment."""

    # The key of inbound rule webhooks; the webhook plugin signs outgoing calls with the same variable.
    inbound_secret: str = env_field("LOOM_WEBHOOK_SECRET", "change-me")
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
