"""What a schema cannot say about an approval flow: every path leads from start to an end node,
parallel branches meet at their join, and the object, fields and actions it names exist and fit.

A flow is checked against the objects of its package and those already installed. The graph is
looked at only once every node name resolves, so a misspelt name is reported once, where it is
written, rather than as the unreachable nodes and dead ends it causes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from metadata.flow_graph import CHAINED_TYPES, FlowGraph, Stray, links_from
from metadata.flows import ApproverSpec, FlowSpec
from metadata.problems import Problem, pointer
from metadata.references import GENERATED_TYPES, did_you_mean, missing_object, no_field
from metadata.rule_checks import action_problems
from metadata.specs import ObjectSpec

Parts = tuple[str | int, ...]
_END_THE_BRANCH = "a branch ends at the join at a node without next"


def flow_problems(
    flow: FlowSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid flow; `broken` names objects already reported as invalid."""
    checks = _FlowChecks(flow, file, known, frozenset(broken))
    names = list(checks.names())
    graph = [] if names else list(checks.graph(FlowGraph(flow)))
    return [
        *checks.bound_object(),
        *names,
        *graph,
        *checks.outcomes(),
        *checks.approvers(),
        *checks.actions(),
        *checks.record_status(),
        *checks.summary_fields(),
        *checks.field_permissions(),
        *checks.locked_fields(),
    ]


class _FlowChecks:
    """One flow under check and the objects it may refer to; each method covers one concern.

    Fields of the flow's object are not checked when that object is missing or broken: that is
    reported once, at /object.
    """

    def __init__(self, flow: FlowSpec, file: str, known: Mapping[str, ObjectSpec], broken: frozenset[str]):
        self.flow = flow
        self.file = file
        self.known = known
        self.broken = broken
        self.obj = known.get(flow.object)

    def problem(self, message: str, *parts: str | int) -> Problem:
        return Problem(self.file, pointer(*parts), message)

    def bound_object(self) -> Iterator[Problem]:
        missing = missing_object(self.flow.object, self.known, self.broken)
        if missing:
            yield self.problem(f"flow {self.flow.name!r} is bound to {missing}", "object")

    def names(self) -> Iterator[Problem]:
        """`start` and every next, default and branch name a node of the flow."""
        nodes = self.flow.nodes
        if self.flow.start not in nodes:
            yield self.problem(self._no_node(self.flow.start), "start")
        for node in nodes.values():
            for link in links_from(node):
                if link.target not in nodes:
                    yield self.problem(self._no_node(link.target), *link.at)

    def _no_node(self, name: str) -> str:
        return f"the flow has no node named {name!r}{did_you_mean(name, self.flow.nodes)}"

    def graph(self, graph: FlowGraph) -> Iterator[Problem]:
        """Branches stay in their parallel, every node leads on, is reached, and can reach an end."""
        blamed: set[Parts] = set()
        for stray in graph.strays:
            if stray.link.at not in blamed:  # a nested branch's stray also leaves the enclosing branch
                blamed.add(stray.link.at)
                yield self.problem(_stray_message(stray), *stray.link.at)
        for name, node in graph.nodes.items():
            if node.type in CHAINED_TYPES and node.next is None and graph.branch_of(name) is None:
                yield self.problem(_leads_nowhere(node.type), "nodes", name)
        reachable = graph.reachable()
        yield from self.unreached(graph, reachable)
        yield from self.loops(graph, reachable)

    def unreached(self, graph: FlowGraph, reachable: set[str]) -> Iterator[Problem]:
        """Nodes start never leads to, reported where they begin: at nodes nothing else leads to first."""
        unreached = [name for name in graph.nodes if name not in reachable]
        led_to = {target for name in unreached for target in graph.successors(name) if target != name}
        covered: set[str] = set()
        for name in [n for n in unreached if n not in led_to] + unreached:
            if name in covered:
                continue
            ahead = graph.reach_from(name) - covered - {name}
            after = [other for other in unreached if other in ahead]
            covered |= {name, *after}
            message = f"node {name!r} is never reached: no path from start {self.flow.start!r} leads to it"
            if after:
                message += f", nor to {', '.join(repr(other) for other in after)} after it"
            yield self.problem(message, "nodes", name)

    def loops(self, graph: FlowGraph, reachable: set[str]) -> Iterator[Problem]:
        """Reached nodes that cannot reach an end node, other than by way of a node reported above."""
        stuck = reachable - graph.reaching_an_end()
        dead = {name for name in stuck if not graph.successors(name)}  # already reported: no next
        covered = {name for name in stuck if graph.reach_from(name) & dead}
        for name in graph.nodes:
            if name not in stuck or name in covered:
                continue
            loop = graph.reach_from(name) & stuck
            covered |= loop
            names = ", ".join(repr(other) for other in graph.nodes if other in loop)
            message = (
                f"node {name!r} never reaches an end node: from here the flow only goes round {names};"
                " give one of them a way on to an end node"
            )
            yield self.problem(message, "nodes", name)

    def outcomes(self) -> Iterator[Problem]:
        ends = [node for node in self.flow.nodes.values() if node.type == "end"]
        if not any(node.outcome == "approved" for node in ends):
            message = (
                'the flow has no end node with "outcome": "approved", so no record could ever be approved;'
                ' add one: {"type": "end"}'
            )
            yield self.problem(message, "nodes")

    def approvers(self) -> Iterator[Problem]:
        """Approvers read from the record name a user field of the flow's object."""
        for name, node in self.flow.nodes.items():
            at: Parts = ("nodes", name)
            for index, approver in enumerate(node.approvers):
                yield from self.approver(approver, (*at, "approvers", index))
            for index, approver in enumerate(node.to):
                yield from self.approver(approver, (*at, "to", index))
            if node.deadline is not None and node.deadline.to is not None:
                yield from self.approver(node.deadline.to, (*at, "deadline", "to"), at_deadline=True)

    def approver(self, approver: ApproverSpec, at: Parts, *, at_deadline: bool = False) -> Iterator[Problem]:
        if approver.kind == "manager_of" and approver.value == "assignee" and not at_deadline:
            message = (
                '"assignee" is the approver whose time ran out, so it is only for a deadline\'s to;'
                ' here write "submitter"'
            )
            yield self.problem(message, *at, "manager_of")
        if approver.kind != "field" or self.obj is None:
            return
        name = approver.value
        field = next((field for field in self.obj.fields if field.name == name), None)
        if field is None:
            yield self.problem(f"approver: {no_field(self.obj, name)}", *at, "field")
        elif field.type != "user":
            message = f"approver: needs a user field; {name!r} is a {field.type} field"
            yield self.problem(message, *at, "field")

    def actions(self) -> list[Problem]:
        """The actions of action and end nodes and of on_reject name fields that fit, as in a rule."""
        if self.obj is None:
            return []
        found = [
            (action, ("nodes", name, "actions", index))
            for name, node in self.flow.nodes.items()
            for index, action in enumerate(node.actions)
        ]
        found += [
            (action, ("on_reject", "actions", index)) for index, action in enumerate(self.flow.reject_actions)
        ]
        return action_problems(self.flow.object, found, self.file, self.known, self.broken)

    def record_status(self) -> Iterator[Problem]:
        """The field kept in step with the approval is a select or text field; each value is an option."""
        status = self.flow.record_status
        if status is None or self.obj is None:
            return
        field = next((field for field in self.obj.fields if field.name == status.field), None)
        if field is None:
            yield self.problem(no_field(self.obj, status.field), "record_status", "field")
            return
        if field.type not in ("select", "text"):
            message = f"record_status needs a select or text field; {status.field!r} is a {field.type} field"
            yield self.problem(message, "record_status", "field")
            return
        if field.type != "select":
            return
        options = [option["value"] for option in field.params.get("options", ())]
        for state, value in status.values.items():
            if value not in options:
                message = (
                    f"{value!r} is not an option of {status.field!r}{did_you_mean(value, options)};"
                    f" its options are {', '.join(options)}"
                )
                yield self.problem(message, "record_status", state)

    def summary_fields(self) -> Iterator[Problem]:
        """The inbox's summary fields are fields of the flow's object."""
        if self.obj is None:
            return
        names = {field.name for field in self.obj.fields}
        for index, name in enumerate(self.flow.summary_fields):
            if name not in names:
                yield self.problem(f"summary field: {no_field(self.obj, name)}", "summary_fields", index)

    def field_permissions(self) -> Iterator[Problem]:
        """What an approval node lets its approvers edit or keeps from them: fields of the object that
        a person can set (for editable), never both editable and hidden."""
        for name, node in self.flow.nodes.items():
            at: Parts = ("nodes", name, "fields")
            if self.obj is not None:
                fields = {field.name: field for field in self.obj.fields}
                for key, names in (("editable", node.editable), ("hidden", node.hidden)):
                    for index, field_name in enumerate(names):
                        field = fields.get(field_name)
                        if field is None:
                            yield self.problem(
                                f"{key} field: {no_field(self.obj, field_name)}", *at, key, index
                            )
                        elif key == "editable" and (field.type in GENERATED_TYPES or field.readonly):
                            why = (
                                "read-only"
                                if field.readonly
                                else f"a {field.type} field, which Loom computes"
                            )
                            message = (
                                f"{field_name!r} is {why}: nobody can edit it, so it cannot be editable here"
                            )
                            yield self.problem(message, *at, key, index)
            for index, field_name in enumerate(node.hidden):
                if field_name in node.editable:
                    message = (
                        f"{field_name!r} is also editable: an approver cannot edit a field they do not see"
                    )
                    yield self.problem(message, *at, "hidden", index)

    def locked_fields(self) -> Iterator[Problem]:
        """The fields `lock_record` locks are fields of the object."""
        if self.obj is None or not isinstance(self.flow.lock_record, tuple):
            return
        names = {field.name for field in self.obj.fields}
        for index, name in enumerate(self.flow.lock_record):
            if name not in names:
                yield self.problem(
                    f"locked field: {no_field(self.obj, name)}", "lock_record", "fields", index
                )


def _leads_nowhere(node_type: str) -> str:
    if node_type == "parallel":
        return "a parallel node needs next: the node the flow goes to after the join"
    return (
        "leads nowhere: give it next (only a node on a parallel branch may leave next out,"
        " which ends the branch at the join)"
    )


def _stray_message(stray: Stray) -> str:
    """Why a link takes a branch out of its parallel, and how to keep it in."""
    target, parallel, entry = stray.link.target, stray.parallel, stray.branch_entry
    if stray.link.via == "split":
        return {
            "join": f"{target!r} is where the flow goes after the join, so this branch would be empty;"
            " name the first node of the branch",
            "parallel": "a parallel node cannot be a branch of itself",
            "end": f"a branch cannot be the end node {target!r}: it would end the whole flow while the"
            " other branches run",
            "outside": f"{target!r} is also reached without this parallel (from {_source(stray)});"
            " a branch's nodes belong to that branch alone",
        }[stray.reason]
    branch = f"branch {entry!r} of parallel {parallel!r}"
    return {
        "join": f"leaves {branch} for {target!r}, where the flow goes after the join; {_END_THE_BRANCH}",
        "parallel": f"leads from {branch} back to the parallel node; {_END_THE_BRANCH}",
        "end": f"leads from {branch} to the end node {target!r}, which would end the whole flow while the"
        f" other branches run; {_END_THE_BRANCH}",
        "other_branch": f"leads from {branch} to {target!r}, which is on branch {stray.other!r}:"
        " each node belongs to one branch",
        "outside": f"leaves {branch} for {target!r}, which the flow also reaches from {_source(stray)};"
        f" {_END_THE_BRANCH}",
    }[stray.reason]


def _source(stray: Stray) -> str:
    return repr(stray.other) if stray.other is not None else "start"
