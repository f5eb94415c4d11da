"""`loom pool claim|return`, `loom convert` and `loom transfer`: the record page's actions, run as a user."""

from __future__ import annotations

import click

from engine import identity
from engine.records import conversion, ownership
from engine.rules import pool
from runtime.cli.group import Context, actor_named, cli, pass_context, reports_errors

AS_HELP = "The user to act as, by username (their roles and the pool's limits apply)."


@cli.group("pool")
def pool_group() -> None:
    """Claim records from an object's pool (公海) and return them."""


@pool_group.command("claim")
@click.argument("object_name")
@click.argument("record_ids", nargs=-1, type=int, required=True)
@click.option("--as", "username", required=True, help=AS_HELP)
@pass_context
@reports_errors
def pool_claim(ctx: Context, object_name: str, record_ids: tuple[int, ...], username: str) -> None:
    """Claim records for a user: all of them, or none if any cannot be taken."""
    loom = ctx.loom
    claimed = pool.claim(loom, actor_named(loom, username), object_name, record_ids)
    click.echo(f"claimed {len(claimed)} {object_name} record(s) for {username}: {_ids(claimed)}")


@pool_group.command("return")
@click.argument("object_name")
@click.argument("record_ids", nargs=-1, type=int, required=True)
@click.option("--as", "username", required=True, help=AS_HELP)
@click.option("--reason", help="Why the records go back (the pool may require it).")
@pass_context
@reports_errors
def pool_return(
    ctx: Context, object_name: str, record_ids: tuple[int, ...], username: str, reason: str | None
) -> None:
    """Return a user's records to the pool."""
    loom = ctx.loom
    returned = pool.release(loom, actor_named(loom, username), object_name, record_ids, reason)
    click.echo(f"returned {len(returned)} {object_name} record(s) to the pool: {_ids(returned)}")


@cli.command("convert")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.option("--as", "username", help="The user to act as, by username (default: the system).")
@click.option(
    "--include", multiple=True, help="An optional target to make too, e.g. opportunity (repeatable)."
)
@click.option(
    "--link", "links", multiple=True, help="OBJECT=ID: link an existing record instead (repeatable)."
)
@click.option("--set", "sets", multiple=True, help="OBJECT.FIELD=VALUE for a record made (repeatable).")
@pass_context
@reports_errors
def convert_command(
    ctx: Context,
    object_name: str,
    record_id: int,
    username: str | None,
    include: tuple[str, ...],
    links: tuple[str, ...],
    sets: tuple[str, ...],
) -> None:
    """Convert a record (a lead into a customer, contact and maybe an opportunity) in one transaction."""
    loom = ctx.loom
    existing = {}
    for link in links:
        name, _, value = link.partition("=")
        if not value.isdigit():
            raise click.BadParameter(f"{link!r} is not OBJECT=ID", param_hint="--link")
        existing[name] = int(value)
    values: dict[str, dict[str, str]] = {}
    for item in sets:
        key, equals, value = item.partition("=")
        target, dot, field = key.partition(".")
        if not (equals and dot and target and field):
            raise click.BadParameter(f"{item!r} is not OBJECT.FIELD=VALUE", param_hint="--set")
        values.setdefault(target, {})[field] = value
    done = conversion.convert(
        loom,
        actor_named(loom, username),
        object_name,
        record_id,
        values=values,
        existing=existing,
        include=include,
    )
    for name, record in done.records.items():
        how = "linked" if name in done.linked else "created"
        click.echo(f"{name} {record['id']} {how}")
    click.echo(f"{object_name} {record_id} converted")


@cli.command("transfer")
@click.argument("object_name")
@click.argument("record_id", type=int)
@click.argument("new_owner")
@click.option("--as", "username", help="The user to act as, by username (default: the system).")
@pass_context
@reports_errors
def transfer_command(
    ctx: Context, object_name: str, record_id: int, new_owner: str, username: str | None
) -> None:
    """Give a record to another user (NEW_OWNER is a username)."""
    loom = ctx.loom
    owner_id = identity.user_by_username(loom, new_owner)["id"]
    ownership.transfer_owner(loom, actor_named(loom, username), object_name, record_id, owner_id)
    click.echo(f"{object_name} {record_id} now belongs to {new_owner}")


def _ids(records: list[dict]) -> str:
    return ", ".join(str(record["id"]) for record in records)
