"""Who did something, as a reader knows them: a rule or an approval flow by its label, never its id.

Rules and flows act as system actors named `rule:<name>` and `flow:<name>`, and audit and history
rows keep that name. The label is looked up when a row is shown, so a relabelled rule shows its
new label, and a rule that no longer exists shows its name.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.base.messages import Message, localize
from engine.schema.registry import Registry

_SYSTEM_ACTORS = {"system": "actor_system", "web form": "actor_web_form"}


def actor_message(registry: Registry, actor_name: str | None) -> str | None:
    """The actor as a catalogue message when a rule, a flow or the system acted; a person's name as it is."""
    if not actor_name:
        return actor_name
    if actor_name in _SYSTEM_ACTORS:
        return Message(_SYSTEM_ACTORS[actor_name])
    kind, _, name = actor_name.partition(":")
    if kind == "rule" and name:
        rule = registry.rules.get(name)
        return Message("actor_rule", rule=_label(name, rule.label if rule else None))
    if kind == "flow" and name:
        flow = registry.flows.get(name)
        return Message("actor_flow", flow=_label(name, flow.label if flow else None))
    return actor_name


def actor_label(registry: Registry, actor_name: str | None, locale: str) -> str | None:
    """Who acted, in `locale`: 规则「VIP客户超过15天未跟进」 rather than rule:vip_followup_overdue."""
    said = actor_message(registry, actor_name)
    return said if said is None else localize(said, locale)


def _label(name: str, label: Mapping[str, str] | None) -> dict[str, str]:
    label = label or {}
    english = label.get("en") or name
    return {"en": english, "zh_CN": label.get("zh_CN") or english}
