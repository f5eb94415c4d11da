"""`loom upgrade`, `loom export`, `loom uninstall` and `loom packages`: installed packages over time."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.base.errors import LoomError, MergeConflicts
from engine.packages.export import export_package
from engine.packages.state import customisations
from engine.packages.store import installed_packages
from engine.packages.uninstall import uninstall_package
from engine.packages.upgrade import upgrade_package
from engine.schema.changes import ChangePlan
from runtime.cli.group import Context, _fail, cli, pass_context, reports_errors


def _print_plan(verb: str, plan: ChangePlan) -> None:
    click.echo(verb)
    for line in plan.lines() or ["nothing to change"]:
        click.echo(f"  {line}")


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--plan", "plan_only", is_flag=True, help="Print what would change and write nothing.")
@click.option(
    "--theirs", multiple=True, metavar="PATH", help="Settle the conflict at PATH with the new version."
)
@click.option(
    "--ours", multiple=True, metavar="PATH", help="Settle the conflict at PATH with the current state."
)
@click.option("--force", is_flag=True, help="Allow installing the same or a lower version.")
@pass_context
@reports_errors
def upgrade(
    ctx: Context, path: Path, plan_only: bool, theirs: tuple[str, ...], ours: tuple[str, ...], force: bool
) -> None:
    """Merge a new version of an installed package with the changes made since it was installed."""
    resolve = {where: "theirs" for where in theirs} | {where: "ours" for where in ours}
    try:
        checked, plan = upgrade_package(ctx.loom, path, resolve=resolve, force=force, dry_run=plan_only)  # type: ignore[arg-type]
    except MergeConflicts as error:
        click.echo(f"{error.message}:", err=True)
        for conflict in error.conflicts:
            for line in conflict.lines():
                click.echo(f"  {line}", err=True)
        click.echo("Settle each with --ours PATH or --theirs PATH and run the upgrade again.", err=True)
        sys.exit(1)
    verb = "would upgrade to" if plan_only else "upgraded to"
    _print_plan(f"{verb} {checked.manifest.name} {checked.manifest.version}", plan)


@cli.command()
@click.argument("package")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder, or a file ending in .zip.",
)
@click.option("--replace", is_flag=True, help="Overwrite an existing package folder or zip.")
@pass_context
def export(ctx: Context, package: str, output: Path, replace: bool) -> None:
    """Write an installed package, with the changes made since it was installed, as a package."""
    try:
        files = export_package(ctx.loom, package, output, replace=replace)
    except LoomError as error:
        _fail(error)
        return
    except FileExistsError as error:
        click.echo(f"error: {error}; pass --replace to overwrite it", err=True)
        sys.exit(1)
    click.echo(f"exported {package} to {output} ({len(files)} files)")


@cli.command()
@click.argument("package")
@click.option("--keep-data", is_flag=True, help="Keep tables that hold records, renamed to archive names.")
@click.option(
    "--cancel-pending",
    is_flag=True,
    help="Withdraw running approvals, drop due work and stop undelivered messages of the package.",
)
@click.option("--plan", "plan_only", is_flag=True, help="Print what would change and write nothing.")
@pass_context
@reports_errors
def uninstall(ctx: Context, package: str, keep_data: bool, cancel_pending: bool, plan_only: bool) -> None:
    """Remove an installed package's metadata; refused while work waits on its objects (unless
    --cancel-pending) or its tables hold records (unless --keep-data)."""
    plan = uninstall_package(
        ctx.loom, package, keep_data=keep_data, cancel_pending=cancel_pending, dry_run=plan_only
    )
    _print_plan(f"{'would uninstall' if plan_only else 'uninstalled'} {package}", plan)


@cli.command()
@pass_context
def packages(ctx: Context) -> None:
    """List installed packages, their dependencies and the documents changed since install."""
    with ctx.loom.read() as conn:
        installed = installed_packages(conn)
        changed = {name: customisations(conn, name) for name in installed}
    if not installed:
        click.echo("no packages installed")
    for name, package in installed.items():
        depends = ", ".join(f"{dep} {wanted}" for dep, wanted in package.depends.items())
        click.echo(f"{name} {package.version}" + (f"  (depends on {depends})" if depends else ""))
        for item in changed[name]:
            click.echo(f"  customised {item.file}: {len(item.changes)} change(s)")
