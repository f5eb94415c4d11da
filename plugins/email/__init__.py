"""E-mail: the send_email rule action and the SMTP channel that delivers what it queues."""

from __future__ import annotations

from engine.plugin_api import PluginContext
from plugins.email.action import SendEmail
from plugins.email.channel import EmailChannel

__all__ = ["EmailChannel", "SendEmail", "register"]


def register(ctx: PluginContext) -> None:
    ctx.channels.register(EmailChannel())
    ctx.actions.register(SendEmail())
