"""`loom user|role|department|handover|token`: the people side of the command line."""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from runtime.cli.group import Context, cli, pass_context, reports_errors

PASSWORD_HELP = (
    "The password. Prefer the prompt: a password given here stays in your shell history and "
    "is visible to other users of the machine while the command runs."
)


def _user_id(loom: Loom, username: str) -> int:
    return identity.user_by_username(loom, username)["id"]


def _department_id(loom: Loom, name_or_id: str) -> int:
    if name_or_id.isdigit():
        return identity.get_department(loom, int(name_or_id))["id"]
    return identity.department_by_name(loom, name_or_id)["id"]


def _new_password(given: str | None) -> str:
    if given is not None:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.group()
def user() -> None:
    """Users: create, list, disable and enable them, set passwords and roles."""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", help="The name people see (default: the username).")
@click.option("--email")
@click.option("--password", help=PASSWORD_HELP)
@click.option("--no-password", is_flag=True, help="No password: the user can only use API tokens.")
@click.option("--role", "roles", multiple=True, help="A role to give the user (repeat for several).")
@click.option("--department", help="The user's department, by name or id.")
@click.option("--manager", help="The username of the user's direct manager.")
@click.option("--locale", default="zh_CN", show_default=True, help="The user's language, zh_CN or en.")
@pass_context
@reports_errors
def user_create(
    ctx: Context,
    username: str,
    display_name: str | None,
    email: str | None,
    password: str | None,
    no_password: bool,
    roles: tuple[str, ...],
    department: str | None,
    manager: str | None,
    locale: str,
) -> None:
    """Create a user; asks for the password twice unless --password or --no-password is given."""
    loom = ctx.loom
    identity.normalise_username(username)  # a bad username fails before the password prompt
    created = identity.create_user(
        loom,
        username,
        display_name or username.strip(),
        None if no_password else _new_password(password),
        email=email,
        locale=locale,
        department_id=_department_id(loom, department) if department else None,
        manager_id=_user_id(loom, manager) if manager else None,
        roles=roles,
        actor=SYSTEM,
    )
    held = ", ".join(created["roles"]) or "no roles"
    click.echo(f"created user {created['username']} (id {created['id']}, {held})")


@user.command("list")
@pass_context
def user_list(ctx: Context) -> None:
    """Every user with their department, roles and whether they are active."""
    loom = ctx.loom
    names = {d["id"]: d["name"] for d in identity.list_departments(loom)}
    click.echo(f"{'id':>4}  {'username':<24} {'name':<16} {'status':<8} {'department':<16} roles")
    for found in identity.list_users(loom):
        status = "active" if found["active"] else "disabled"
        department = names.get(found["department_id"], "")
        click.echo(
            f"{found['id']:>4}  {found['username']:<24} {found['display_name']:<16} {status:<8} "
            f"{department:<16} {', '.join(found['roles'])}"
        )


@user.command("disable")
@click.argument("username")
@pass_context
@reports_errors
def user_disable(ctx: Context, username: str) -> None:
    """Stop a user signing in or acting, and revoke their API tokens; their records stay theirs."""
    loom = ctx.loom
    user_id = _user_id(loom, username)
    tokens = len(identity.list_tokens(loom, user_id, include_revoked=False))
    disabled = identity.disable_user(loom, user_id, actor=SYSTEM)
    click.echo(f"disabled {disabled['username']}; {tokens} API token(s) revoked")
    click.echo(f"hand their records to someone with: loom handover {disabled['username']} NEW_OWNER")


@user.command("enable")
@click.argument("username")
@pass_context
@reports_errors
def user_enable(ctx: Context, username: str) -> None:
    """Let a disabled user sign in again (revoked tokens stay revoked)."""
    enabled = identity.enable_user(ctx.loom, _user_id(ctx.loom, username), actor=SYSTEM)
    click.echo(f"enabled {enabled['username']}")


@user.command("set-password")
@click.argument("username")
@click.option("--password", help=PASSWORD_HELP)
@click.option("--revoke-tokens", is_flag=True, help="Revoke the user's API tokens too.")
@pass_context
@reports_errors
def user_set_password(ctx: Context, username: str, password: str | None, revoke_tokens: bool) -> None:
    """Set a user's password and sign them out everywhere; asks for it twice unless --password is given."""
    user_id = _user_id(ctx.loom, username)
    identity.set_password(
        ctx.loom, user_id, _new_password(password), actor=SYSTEM, revoke_tokens=revoke_tokens
    )
    ended = "; their sessions and API tokens ended" if revoke_tokens else "; their sessions ended"
    click.echo(f"password of {username.strip().lower()} changed{ended}")


@user.command("roles")
@click.argument("username")
@click.argument("roles", nargs=-1)
@click.option("--clear", is_flag=True, help="Take every role away.")
@pass_context
@reports_errors
def user_roles(ctx: Context, username: str, roles: tuple[str, ...], clear: bool) -> None:
    """Replace a user's roles with ROLES (or, with none given, show them)."""
    loom = ctx.loom
    user_id = _user_id(loom, username)
    if roles or clear:
        held = identity.set_roles(loom, user_id, () if clear else roles, actor=SYSTEM)
    else:
        held = identity.get_user(loom, user_id)["roles"]
    click.echo(f"{username.strip().lower()}: {', '.join(held) or 'no roles'}")


@cli.group()
def role() -> None:
    """Roles: which exist and how many users hold each."""


@role.command("list")
@pass_context
def role_list(ctx: Context) -> None:
    """Every role defined in the metadata, with how many users hold it."""
    loom = ctx.loom
    held = identity.roles_in_use(loom)
    defined = getattr(loom.registry, "roles", None)
    if defined is None:  # roles are not metadata in this database's engine: show the names in use
        for name, count in held.items():
            click.echo(f"{name:<24} {count:>4} user(s)")
        return
    for name, spec in sorted(defined.items()):
        label = spec.label.get("zh_CN") or spec.label.get("en") or ""
        admin = "  (admin)" if spec.admin else ""
        click.echo(f"{name:<24} {held.get(name, 0):>4} user(s)  {label}{admin}")
    for name in sorted(set(held) - set(defined)):
        click.echo(f"{name:<24} {held[name]:>4} user(s)  (not defined in the metadata: grants nothing)")


@cli.group()
def department() -> None:
    """Departments: a tree, each with an optional head."""


@department.command("create")
@click.argument("name")
@click.option("--parent", help="The department above it, by name or id (default: at the top).")
@click.option("--head", help="The username of the department's head.")
@pass_context
@reports_errors
def department_create(ctx: Context, name: str, parent: str | None, head: str | None) -> None:
    """Create a department."""
    loom = ctx.loom
    created = identity.create_department(
        loom,
        name,
        _department_id(loom, parent) if parent else None,
        _user_id(loom, head) if head else None,
        actor=SYSTEM,
    )
    click.echo(f"created department {created['name']} (id {created['id']})")


@department.command("list")
@pass_context
def department_list(ctx: Context) -> None:
    """The departments as a tree, with each one's head and number of active members."""
    loom = ctx.loom
    people = identity.list_users(loom, include_disabled=False)
    usernames = {found["id"]: found["username"] for found in identity.list_users(loom)}
    counts = Counter(found["department_id"] for found in people)

    def show(nodes: list[dict[str, Any]], depth: int) -> None:
        for node in nodes:
            head = f", head {usernames[node['head_id']]}" if node["head_id"] in usernames else ""
            members = f"{counts[node['id']]} member(s)"
            click.echo(f"{'  ' * depth}{node['name']} (id {node['id']}, {members}{head})")
            show(node["children"], depth + 1)

    tree = identity.department_tree(loom)
    show(tree, 0)
    if not tree:
        click.echo("no departments yet")


@cli.command("handover")
@click.argument("from_username")
@click.argument("to_username")
@click.option("--object", "objects", multiple=True, help="Only this object's records (repeat for several).")
@pass_context
@reports_errors
def handover_command(ctx: Context, from_username: str, to_username: str, objects: tuple[str, ...]) -> None:
    """Give TO every record FROM owns, in one transaction (rules do not fire)."""
    loom = ctx.loom
    counts = identity.handover(
        loom,
        _user_id(loom, from_username),
        _user_id(loom, to_username),
        objects=objects or None,
        actor=SYSTEM,
    )
    for name, count in counts.items():
        if count or objects:
            click.echo(f"{name:<18} {count:>8}")
    click.echo(f"{sum(counts.values())} record(s) handed over to {to_username.strip().lower()}")


@cli.group()
def token() -> None:
    """API tokens for integrations."""


@token.command("create")
@click.argument("username")
@click.argument("name")
@pass_context
@reports_errors
def token_create(ctx: Context, username: str, name: str) -> None:
    """Create a token for USERNAME, described by NAME; it is printed this once only."""
    secret, row = identity.create_token(ctx.loom, _user_id(ctx.loom, username), name, actor=SYSTEM)
    click.echo(secret)
    click.echo(f"token {row['id']} ({row['name']}) created; store it now, it cannot be shown again", err=True)


@token.command("list")
@click.argument("username", required=False)
@pass_context
@reports_errors
def token_list(ctx: Context, username: str | None) -> None:
    """Tokens (of one user, or everyone's): id, user, name, prefix, last use and whether revoked."""
    loom = ctx.loom
    usernames = {found["id"]: found["username"] for found in identity.list_users(loom)}
    for row in identity.list_tokens(loom, _user_id(loom, username) if username else None):
        used = f"{row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else "never used"
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']:>4}  {usernames.get(row['user_id'], '?'):<20} {row['name']:<20} "
            f"loom_{row['prefix']}…  {used:<16} {state}"
        )


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_context
@reports_errors
def token_revoke(ctx: Context, token_id: int) -> None:
    """Revoke token TOKEN_ID; it is refused from now on."""
    row = identity.revoke_token(ctx.loom, token_id, actor=SYSTEM)
    click.echo(f"token {row['id']} ({row['name']}) revoked")
