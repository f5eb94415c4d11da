"""What each node card of the flow designer says: its title and a one-line summary in the page's language
(who approves and how, the deadline and what happens at it), read from the raw, possibly half-made node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from runtime.web.i18n import label_text


@dataclass
class Org:
    """The names the cards show for the org chart's users, roles, departments and the object's fields."""

    users: dict[str, str] = field(default_factory=dict)  # username → display name
    roles: dict[str, str] = field(default_factory=dict)  # role name → label
    departments: dict[str, str] = field(default_factory=dict)  # department name → name
    fields: dict[str, str] = field(default_factory=dict)  # field name → label


def type_title(kind: Any) -> str:
    titles = {
        "approval": _("Approver"),
        "cc": _("Copy to"),
        "condition": _("Condition branches"),
        "parallel": _("Parallel branches"),
        "action": _("Action"),
        "end": _("End"),
    }
    return titles.get(kind, _("Unknown step")) if isinstance(kind, str) else _("Unknown step")


def who(approver: Any, org: Org) -> str:
    """One approver as people read it: 张经理, 角色 法务, 发起人的上级, 发起人的部门负责人 …"""
    if not isinstance(approver, Mapping):
        return "?"
    if "user" in approver:
        name = str(approver["user"])
        return org.users.get(name, name)
    if "role" in approver:
        name = str(approver["role"])
        return _("Role %(name)s", name=org.roles.get(name, name))
    if "manager_of" in approver:
        levels = approver.get("levels", 1)
        whose = _("the late approver") if approver["manager_of"] == "assignee" else _("the submitter")
        if levels == 1 or not isinstance(levels, int):
            return _("Manager of %(whose)s", whose=whose)
        return _("Manager %(levels)s levels above %(whose)s", levels=levels, whose=whose)
    if "department_head" in approver:
        name = str(approver["department_head"])
        if name == "submitter":
            return _("Head of the submitter's department")
        return _("Head of %(department)s", department=org.departments.get(name, name))
    if "field" in approver:
        name = str(approver["field"])
        return _("The person in %(field)s", field=org.fields.get(name, name))
    if approver.get("chosen_by_submitter"):
        return _("Chosen by the submitter")
    return "?"


def mode_text(node: Mapping[str, Any]) -> str:
    mode = node.get("mode", "any")
    if mode == "vote":
        share = node.get("share")
        percent = round(share * 100) if isinstance(share, int | float) else "?"
        return _("Vote %(percent)s%%", percent=percent)
    return {
        "any": _("Any one approves"),
        "all": _("All approve"),
        "sequential": _("One after another"),
    }.get(mode, str(mode))


def deadline_text(deadline: Any, org: Org) -> str | None:
    if not isinstance(deadline, Mapping):
        return None
    hours = deadline.get("hours")
    if isinstance(hours, float) and hours.is_integer():
        hours = int(hours)
    then = deadline.get("then", "remind")
    if then == "reassign":
        action = _("pass to %(who)s", who=who(deadline.get("to"), org))
    else:
        action = {
            "remind": _("remind"),
            "approve": _("approve automatically"),
            "reject": _("reject automatically"),
        }.get(then, str(then))
    return _("Not handled in %(hours)s hours: %(action)s", hours=hours, action=action)


def _actions_text(actions: Any, org: Org) -> str:
    if not isinstance(actions, list) or not actions:
        return ""
    said = []
    for action in actions:
        kind = action.get("type") if isinstance(action, Mapping) else None
        if kind == "set_field":
            name = str(action.get("field", "?"))
            said.append(_("Set %(field)s", field=org.fields.get(name, name)))
        elif kind == "create_record":
            said.append(_("Create a %(object)s record", object=action.get("object", "?")))
        elif kind == "notify":
            said.append(_("Notify"))
        else:
            said.append(str(kind))
    return " · ".join(said)


def summary(node: Any, org: Org) -> str:
    """The card's one line: e.g. 发起人的上级 · 或签 · 48 小时未处理：催办."""
    if not isinstance(node, Mapping):
        return ""
    kind = node.get("type")
    parts: list[str] = []
    if kind == "approval":
        approvers = node.get("approvers")
        if not isinstance(approvers, list) or not approvers:
            return _("Choose the approvers")
        parts.append(", ".join(who(a, org) for a in approvers))
        parts.append(mode_text(node))
        late = deadline_text(node.get("deadline"), org)
        if late:
            parts.append(late)
    elif kind == "cc":
        to = node.get("to")
        if not isinstance(to, list) or not to:
            return _("Choose who is informed")
        parts.append(_("Inform %(who)s", who=", ".join(who(a, org) for a in to)))
    elif kind == "action":
        return _actions_text(node.get("actions"), org) or _("Choose the actions")
    elif kind == "parallel":
        parts.append(
            _("Goes on when any branch ends")
            if node.get("join") == "any"
            else _("Goes on when every branch ends")
        )
    elif kind == "end":
        parts.append(_("Ends rejected") if node.get("outcome") == "rejected" else _("Ends approved"))
        done = _actions_text(node.get("actions"), org)
        if done:
            parts.append(done)
    return " · ".join(parts)


def cards(doc: Mapping[str, Any], org: Org) -> dict[str, dict[str, str]]:
    """Each node's card: its type, title (its label, else what it is) and summary."""
    nodes = doc.get("nodes") if isinstance(doc.get("nodes"), Mapping) else {}
    found = {}
    for name, node in nodes.items():
        if not isinstance(node, Mapping):
            continue
        label = node.get("label") if isinstance(node.get("label"), Mapping) else None
        kind = node.get("type")
        found[name] = {
            "type": kind if isinstance(kind, str) else "",
            "kind_title": type_title(kind),
            "title": label_text(label, type_title(kind)),
            "summary": summary(node, org),
        }
    return found
