"""Webhooks: the call_webhook rule action and the signed HTTP POST channel that delivers it."""

from __future__ import annotations

from engine.plugin_api import PluginContext
from plugins.webhook.action import CallWebhook
from plugins.webhook.channel import WebhookChannel, WebhookRefused
from plugins.webhook.signing import sign, verify

__all__ = ["CallWebhook", "WebhookChannel", "WebhookRefused", "register", "sign", "verify"]


def register(ctx: PluginContext) -> None:
    ctx.channels.register(WebhookChannel())
    ctx.actions.register(CallWebhook())
