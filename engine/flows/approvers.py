"""Who approves: approver specs resolved against the org model when a node is reached.

Resolvers are a registry keyed by the approver kind, like field types and actions: a user by
username, the holders of a role, the submitter's manager N levels up, a department's head, a
user field of the record, or the people the submitter chose for the node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.flows.errors import FlowError
from engine.flows.runs import Run
from engine.identity import department_by_name, manager_chain
from engine.identity.errors import DepartmentNotFound
from engine.store.system_tables import departments, user_roles, users
from metadata.flows import ApproverSpec


@dataclass(frozen=True)
class ApproverContext:
    """What a resolver may look at: the run (instance, record, org) and the node the approvers are for."""

    run: Run
    node: str
    assignee_id: int | None = None  # at a deadline: the approver whose time ran out


Resolver = Callable[[ApproverContext, ApproverSpec], list[int]]


class ApproverResolvers:
    """Resolvers by approver kind; a plugin may add a kind of its own."""

    def __init__(self) -> None:
        self._resolvers: dict[str, Resolver] = {}

    def register(self, kind: str, resolver: Resolver) -> Resolver:
        self._resolvers[kind] = resolver
        return resolver

    def resolve(self, ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
        resolver = self._resolvers.get(spec.kind)
        if resolver is None:
            known = ", ".join(sorted(self._resolvers))
            raise FlowError(f"unknown kind of approver {spec.kind!r}; known kinds: {known}")
        return resolver(ctx, spec)

    def __contains__(self, kind: object) -> bool:
        return kind in self._resolvers


def approvers_for(
    run: Run, node: str, specs: Iterable[ApproverSpec], *, assignee_id: int | None = None
) -> list[int]:
    """The active users the specs name, in the order given, each once."""
    ctx = ApproverContext(run, node, assignee_id)
    found: list[int] = []
    for spec in specs:
        found += run.loom.flows.approvers.resolve(ctx, spec)
    return active_only(run, found)


def active_only(run: Run, user_ids: Iterable[int]) -> list[int]:
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    query = select(users.c.id).where(users.c.id.in_(wanted), users.c.active)
    active = set(run.conn.execute(query).scalars())
    return [user_id for user_id in wanted if user_id in active]


def administrators(run: Run) -> list[int]:
    """Active users holding an administrator role: who approves when a node's approvers are nobody."""
    roles = [name for name, role in run.registry.roles.items() if role.admin] or ["admin"]
    query = (
        select(users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role.in_(roles), users.c.active)
        .order_by(users.c.username)
    )
    return list(dict.fromkeys(run.conn.execute(query).scalars()))


# -- the built-in kinds ------------------------------------------------------------------------------


def _user(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    if isinstance(spec.value, int) and not isinstance(spec.value, bool):
        return [spec.value]
    name = str(spec.value).strip().lower()
    return list(ctx.run.conn.execute(select(users.c.id).where(users.c.username == name)).scalars())


def _role(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    query = (
        select(users.c.id)
        .join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role == spec.value, users.c.active)
        .order_by(users.c.username)
    )
    return list(ctx.run.conn.execute(query).scalars())


def _person(ctx: ApproverContext, who: Any) -> int | None:
    """ "submitter", "assignee" (at a deadline) or a user field of the record, as a user id."""
    if who == "submitter":
        return ctx.run.instance.submitter_id
    if who == "assignee":
        return ctx.assignee_id
    return next(iter(_user_ids(ctx.run.record().get(str(who)))), None)


def _manager_of(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    """The person's manager `levels` up; when the chain is shorter, the highest manager there is."""
    person = _person(ctx, spec.value)
    if person is None:
        return []
    chain = manager_chain(ctx.run.loom, person, max(1, spec.levels), conn=ctx.run.conn)
    return [chain[-1]["id"]] if chain else []


def _department_head(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    """The head of the submitter's department (of the one above, when the submitter heads it), or of
    the department named (or given by id)."""
    conn = ctx.run.conn
    if spec.value == "submitter":
        submitter = ctx.run.instance.submitter_id
        if submitter is None:
            return []
        department_id = conn.execute(select(users.c.department_id).where(users.c.id == submitter)).scalar()
        for row in _departments_up(ctx, department_id):
            if row.head_id is not None and row.head_id != submitter:
                return [row.head_id]
        return []
    try:
        if isinstance(spec.value, int) and not isinstance(spec.value, bool):
            department = conn.execute(select(departments).where(departments.c.id == spec.value)).first()
            head = department.head_id if department is not None else None
        else:
            head = department_by_name(ctx.run.loom, str(spec.value), conn=conn)["head_id"]
    except DepartmentNotFound:
        return []
    return [head] if head is not None else []


def _departments_up(ctx: ApproverContext, department_id: int | None) -> Iterator[Any]:
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        row = ctx.run.conn.execute(select(departments).where(departments.c.id == department_id)).first()
        if row is None:
            return
        yield row
        department_id = row.parent_id


def _field(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    return _user_ids(ctx.run.record().get(str(spec.value)))


def _chosen(ctx: ApproverContext, spec: ApproverSpec) -> list[int]:
    return list(ctx.run.state.get("chosen", {}).get(ctx.node, []))


def _user_ids(value: Any) -> list[int]:
    items = value if isinstance(value, list | tuple) else [value]
    ids = []
    for item in items:
        if isinstance(item, bool) or item in (None, ""):
            continue
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            ids.append(int(item))
    return ids


def builtin_resolvers() -> ApproverResolvers:
    resolvers = ApproverResolvers()
    resolvers.register("user", _user)
    resolvers.register("role", _role)
    resolvers.register("manager_of", _manager_of)
    resolvers.register("department_head", _department_head)
    resolvers.register("field", _field)
    resolvers.register("chosen_by_submitter", _chosen)
    return resolvers
