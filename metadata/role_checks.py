"""What a schema cannot say about a role: the objects and fields it names exist, and its grants make sense.

A role is checked against the objects of its package and those already installed. Each check
looks at one role alone: a user's roles add up, but a role that can update records it cannot
read, or create records whose required fields it cannot fill, is a mistake whatever else the
user holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from metadata.problems import Problem, pointer
from metadata.references import missing_object, no_field
from metadata.roles import SCOPES, RoleSpec
from metadata.specs import ObjectSpec

ADMIN_ROLE = "admin"  # the engine treats a user holding a role of this name as an administrator
AFTER_READ = ("update", "delete", "import", "export")  # operations on records the user must be able to read
# Object sharing defaults that let everyone read every record, whatever the read scope.
WIDENING_SHARING = frozenset({"read", "edit"})


def role_problems(
    role: RoleSpec, file: str, known: Mapping[str, ObjectSpec], broken: Iterable[str] = ()
) -> list[Problem]:
    """Semantic problems of a schema-valid role; `broken` names objects already reported as invalid."""
    checks = _RoleChecks(role, file, known, frozenset(broken))
    return [*checks.admin_name(), *checks.grants(), *checks.field_access()]


class _RoleChecks:
    """One role under check and the objects it may refer to; each method covers one concern."""

    def __init__(self, role: RoleSpec, file: str, known: Mapping[str, ObjectSpec], broken: frozenset[str]):
        self.role = role
        self.file = file
        self.known = known
        self.broken = broken

    def problem(self, message: str, *parts: str | int) -> Problem:
        return Problem(self.file, pointer(*parts), message)

    def admin_name(self) -> Iterator[Problem]:
        if self.role.name == ADMIN_ROLE and not self.role.admin:
            yield self.problem('the role named admin may do everything: set "admin": true', "name")

    def grants(self) -> Iterator[Problem]:
        for name, grant in self.role.objects.items():
            missing = missing_object(name, self.known, self.broken)
            if missing:
                yield self.problem(f"role {self.role.name!r} grants access to {missing}", "objects", name)
                continue
            read = grant.scope("read")
            obj = self.known.get(name)
            read_all = obj is not None and obj.sharing in WIDENING_SHARING
            for operation in AFTER_READ:
                scope = grant.scope(operation)
                if scope is None:
                    continue
                at = ("objects", name, operation)
                if read is None:
                    message = f'can {operation} {name} records it cannot read: give it "read" too'
                    yield self.problem(message, *at)
                elif _wider(scope, read) and not read_all:
                    message = (
                        f"can {operation} {_records(scope)} {name} records but read only {_records(read)}:"
                        f" {operation} reaches at most the records the role may read"
                    )
                    yield self.problem(message, *at)

    def field_access(self) -> Iterator[Problem]:
        for key, access in self.role.fields.items():
            object_name, field_name = key.split(".", 1)
            at = ("fields", key)
            missing = missing_object(object_name, self.known, self.broken)
            obj = self.known.get(object_name)
            if missing:
                yield self.problem(f"names a field of {missing}", *at)
            elif obj is None:  # broken: reported in its own document
                continue
            elif not obj.has_field(field_name):
                yield self.problem(no_field(obj, field_name), *at)
            elif not self.role.admin:
                yield from self.restriction(obj, field_name, access, at)

    def restriction(
        self, obj: ObjectSpec, field_name: str, access: str, at: tuple[str, ...]
    ) -> Iterator[Problem]:
        """A hidden or read-only field belongs to an object the role reads, and does not block creating."""
        grant = self.role.objects.get(obj.name)
        words = "hidden" if access == "hidden" else "read-only"
        if grant is None or grant.scope("read") is None:
            verb = "hides" if access == "hidden" else "makes read-only"
            message = (
                f"{verb} a field of an object the role cannot read: give it read access to {obj.name}"
                " or remove this entry"
            )
            yield self.problem(message, *at)
            return
        field = obj.field(field_name)
        if grant.scope("create") is not None and field.required and field.default is None:
            message = (
                f"the role may create {obj.name} records, but {field_name!r} is required, has no default"
                f" and is {words} for this role, so its users could never fill it"
            )
            yield self.problem(message, *at)


def _wider(scope: str, than: str) -> bool:
    return SCOPES.index(scope) > SCOPES.index(than)


def _records(scope: str) -> str:
    return {
        "own": "their own",
        "department": "their department's",
        "department_and_below": "their department's and sub-departments'",
        "all": "all",
    }[scope]
