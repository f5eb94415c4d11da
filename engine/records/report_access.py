"""Who may run, build and manage reports: a report's sharing, and the roles that may build.

A report shared with everyone runs for anyone who may read its object; one shared with roles, for
the users holding one of them; a private one, for its owner. Administrators may open every report
to manage it. Building needs an administrator or a role with `build_reports`; a builder who is not
an administrator manages only their own private reports.
"""

from __future__ import annotations

from engine.base.actors import Actor
from engine.identity.permissions import is_administrator
from engine.schema.registry import Registry
from metadata.reports import ReportSpec, Sharing


def shared_with(registry: Registry, actor: Actor, spec: ReportSpec) -> bool:
    """Whether the report's sharing lets the actor run it (its object's read permission aside)."""
    sharing = spec.sharing
    if sharing.with_ == "everyone":
        return True
    if is_administrator(registry, actor):
        return True
    if sharing.with_ == "roles":
        return bool(actor.roles & set(sharing.roles))
    return actor.username is not None and actor.username == sharing.owner


def may_build_reports(registry: Registry, actor: Actor) -> bool:
    """Administrators, and users holding a role that allows building reports."""
    if is_administrator(registry, actor):
        return True
    return any(registry.roles[name].build_reports for name in actor.roles if name in registry.roles)


def may_manage_report(registry: Registry, actor: Actor, spec: ReportSpec) -> bool:
    """Whether the actor may change or delete the report: administrators any, builders their own."""
    if is_administrator(registry, actor):
        return True
    return may_build_reports(registry, actor) and owns(actor, spec.sharing)


def owns(actor: Actor, sharing: Sharing) -> bool:
    """Whether the sharing is private to the actor."""
    return sharing.with_ == "private" and actor.username is not None and sharing.owner == actor.username
