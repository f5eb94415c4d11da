"""The `loom` command line: init, validate, install, migrate, objects, shell, rules, worker.

`loom demo` and `loom demo-data` are in runtime/cli_demo.py.

Users, roles, departments, handover and tokens are in runtime/cli_people.py; the pool, conversion
and transfer of records in runtime/cli_record_actions.py.
"""

from __future__ import annotations

import code
import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from engine import identity
from engine.actors import SYSTEM, Actor
from engine.errors import InvalidMetadata, LoomError
from engine.loom import Loom
from engine.metadata_changes import sync_all
from engine.packages import check_package, install_package
from engine.plugin_api import loaded_registries
from engine.rules.explain import business_time, created_records, explain
from runtime.heap import freeze_startup_objects
from runtime.worker import RETRY_WHEN_UNAVAILABLE, run_pass, run_worker, wait_for_database

DEFAULT_DATABASE = "sqlite:///instance/loom.db"


def database_url(explicit: str | None) -> str:
    return explicit or os.environ.get("LOOM_DATABASE_URL") or DEFAULT_DATABASE


class Context:
    def __init__(self, database: str | None, lang: str = "en") -> None:
        self.url = database_url(database)
        self.lang = lang
        self._loom: Loom | None = None

    @property
    def loom(self) -> Loom:
        if self._loom is None:
            loom = Loom(self.url)
            try:
                loom.init()
            except BaseException:
                loom.close()
                raise
            self._loom = loom  # only once it works: asking again after a failure tries again
        return self._loom


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database", "-d", help="Database URL (default: $LOOM_DATABASE_URL or instance/loom.db).")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh_CN"]),
    default="en",
    envvar="LOOM_LANG",
    show_default=True,
    help="Language of error messages and import reports (or $LOOM_LANG).",
)
@click.pass_context
def cli(ctx: click.Context, database: str | None, lang: str) -> None:
    """Loom: a metadata-driven CRM engine."""
    ctx.obj = Context(database, lang)


def cli_locale() -> str:
    """The language the command speaks to people: --lang or $LOOM_LANG, English by default."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Context) if ctx is not None else None
    return found.lang if found is not None else "en"


def _report_problems(error: InvalidMetadata) -> None:
    click.echo(f"{len(error.problems)} problem(s) found; nothing was applied:", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


def _fail(error: LoomError) -> None:
    click.echo(f"error: {error.localized(cli_locale())}", err=True)
    sys.exit(1)


def reports_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Turn a LoomError into `error: …` on stderr and exit status 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except LoomError as error:
            _fail(error)

    return run


def actor_named(loom: Loom, username: str | None) -> Actor:
    """The user a command runs as (`--as USERNAME`); the system when none is named."""
    if username is None:
        return SYSTEM
    return identity.actor_for(loom, identity.user_by_username(loom, username)["id"])


@cli.command()
@pass_context
def init(ctx: Context) -> None:
    """Create Loom's own tables in the database (safe to run again)."""
    ctx.loom.init()
    click.echo(f"initialised {ctx.url}")


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def validate(path: Path) -> None:
    """Check a package folder or zip and report every problem with its file and JSON path."""
    try:
        checked = check_package(path, loaded_registries())
    except InvalidMetadata as error:
        _report_problems(error)
        return
    fields = sum(len(obj.fields) for obj in checked.objects)
    rules = f", {len(checked.rules)} rules" if checked.rules else ""
    click.echo(
        f"{checked.manifest.name} {checked.manifest.version}: {len(checked.objects)} objects, "
        f"{fields} fields{rules} — valid"
    )


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--plan", "plan_only", is_flag=True, help="Print what would change and write nothing.")
@pass_context
def install(ctx: Context, path: Path, plan_only: bool) -> None:
    """Validate a package, then apply its metadata and tables in one transaction."""
    try:
        checked, plan = install_package(ctx.loom, path, dry_run=plan_only)
    except InvalidMetadata as error:
        _report_problems(error)
        return
    except LoomError as error:
        _fail(error)
        return
    verb = "would install" if plan_only else "installed"
    click.echo(f"{verb} {checked.manifest.name} {checked.manifest.version}")
    for line in plan.lines():
        click.echo(f"  {line}")
    if not plan.lines():
        click.echo("  nothing to change")


@cli.command()
@click.option("--plan", "plan_only", is_flag=True, help="Print the DDL steps and write nothing.")
@pass_context
def migrate(ctx: Context, plan_only: bool) -> None:
    """Bring the record tables in line with the stored metadata."""
    try:
        plan = sync_all(ctx.loom, dry_run=plan_only)
    except LoomError as error:
        _fail(error)
        return
    for line in plan.lines() or ["tables already match the metadata"]:
        click.echo(line)


@cli.command()
@pass_context
def objects(ctx: Context) -> None:
    """List the installed objects with their tables and field counts."""
    _print_objects(ctx.loom)


def _print_objects(loom: Loom) -> None:
    registry = loom.registry
    click.echo(f"{'object':<18} {'table':<22} {'fields':>6} {'stored':>6}  label")
    for name, model in registry.objects.items():
        label = model.spec.label.get("zh_CN") or model.spec.label.get("en") or ""
        click.echo(
            f"{name:<18} {model.table.name:<22} {len(model.spec.fields):>6} {len(model.stored):>6}  {label}"
        )


@cli.command()
@pass_context
def shell(ctx: Context) -> None:
    """A Python shell with `loom` (the instance) and `records`/`queries` (as the system actor)."""
    loom = ctx.loom
    banner = f"Loom shell on {ctx.url}\n  loom, records = loom.records(), queries = loom.queries()"
    code.interact(banner=banner, local={"loom": loom, "records": loom.records(), "queries": loom.queries()})


@cli.group()
def rules() -> None:
    """Automation rules: list them, and explain why they did or did not fire."""


@rules.command("list")
@pass_context
def rules_list(ctx: Context) -> None:
    """Every rule with its object, trigger and whether it is active."""
    registry = ctx.loom.registry
    for rule in sorted(registry.rules.values(), key=lambda r: (r.object, r.order, r.name)):
        state = "" if rule.active else "  (inactive)"
        click.echo(f"{rule.object:<16} {rule.name:<32} {rule.trigger.type:<12} {rule.fire}{state}")


@rules.command("explain")
@click.argument("object_name")
@click.argument("record_id", type=int)
@pass_context
def rules_explain(ctx: Context, object_name: str, record_id: int) -> None:
    """Why each rule of OBJECT did or did not fire for record RECORD_ID."""
    try:
        explanations = explain(ctx.loom, object_name, record_id)
    except LoomError as error:
        _fail(error)
        return
    if not explanations:
        click.echo(f"{object_name} has no rules")
    for item in explanations:
        click.echo(f"{item.rule} [{item.trigger}]: {item.verdict}")
        if item.condition:
            click.echo(f"    condition: {item.condition}  →  {item.condition_value!r}")
            for name, value in item.inputs.items():
                click.echo(f"      {name} = {value!r}")
            for text, value in item.computed.items():
                click.echo(f"      {text} = {value!r}")
        if item.next_due:
            click.echo(f"    next due: {business_time(item.next_due, item.timezone)}")
        for run in item.runs:
            detail = run["error"] or ", ".join(a.get("type", "?") for a in run["actions"]) or ""
            at = business_time(run["at"], item.timezone)
            click.echo(f"    {at} {run['trigger']:<12} {run['status']:<8} {detail}")
            for object_name, created_id in created_records(run):
                click.echo(f"      created {object_name} {created_id}")


@cli.command()
@click.option("--once", is_flag=True, help="Run one pass (due work, then the outbox) and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    help="Seconds between passes (default: $LOOM_WORKER_INTERVAL or 30).",
)
@pass_context
def worker(ctx: Context, once: bool, interval: float | None) -> None:
    """Run due work and deliver the outbox; run exactly one worker per database."""
    if once:
        loom = ctx.loom
        # Each failed or stopped rule run is logged by the pass; --once shows them on stderr.
        handler = _EchoHandler(logging.WARNING)
        worker_log = logging.getLogger("loom.worker")
        worker_log.addHandler(handler)
        try:
            counts = run_pass(loom)
        finally:
            worker_log.removeHandler(handler)
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # not a line per quiet pass
    # Started at boot, the worker may come up before PostgreSQL does: it waits rather than exits.
    loom = wait_for_database(
        lambda: ctx.loom, retry=min(interval or RETRY_WHEN_UNAVAILABLE, RETRY_WHEN_UNAVAILABLE)
    )
    freeze_startup_objects(loom)
    run_worker(loom, interval or loom.settings.worker_interval)


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


# -- users, roles, departments, handover and API tokens ----------------------------------------------


def main() -> None:
    cli(prog_name="loom")


# Command groups kept in their own modules register themselves on `cli` when imported.
from runtime import (  # noqa: E402, F401
    cli_demo,
    cli_flows,
    cli_import,
    cli_packages,
    cli_people,
    cli_record_actions,
    cli_web,
)

if __name__ == "__main__":
    main()
