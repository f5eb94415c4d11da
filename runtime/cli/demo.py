"""`loom demo` and `loom demo-data`: a CRM full of a year of business, ready to sign in to."""

from __future__ import annotations

import click

from engine.base.errors import LoomError
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.packages.store import installed_package
from metadata.loading import read_package
from runtime.cli.group import Context, _fail, cli, pass_context, reports_errors
from runtime.cli.web import run_server
from runtime.demo.data import (
    DEFAULT_CUSTOMERS,
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DemoLogin,
    DemoReport,
    demo_logins,
    load_demo_data,
)


def _demo_options(command):  # type: ignore[no-untyped-def]
    command = click.option(
        "--password",
        default=DEFAULT_PASSWORD,
        show_default=True,
        help="The password every demo user gets (at least 8 characters).",
    )(command)
    command = click.option(
        "--customers",
        "--scale",
        "customers",
        default=DEFAULT_CUSTOMERS,
        show_default=True,
        type=click.IntRange(min=1),
        help="How many customers; everything else grows with them.",
    )(command)
    return click.option(
        "--seed", default=DEFAULT_SEED, show_default=True, type=int, help="The same seed gives the same data."
    )(command)


@cli.command("demo-data")
@_demo_options
@pass_context
def demo_data(ctx: Context, seed: int, customers: int, password: str) -> None:
    """Fill the installed CRM with a year of demo business (does nothing if it already holds data)."""
    report = _load(ctx.loom, seed, customers, password)
    if report.loaded:
        _print_logins(report.logins)


@cli.command()
@_demo_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Set everything up and print the sign-in details, then exit.")
@click.pass_context
@reports_errors
def demo(
    click_ctx: click.Context, seed: int, customers: int, password: str, host: str, port: int, no_serve: bool
) -> None:
    """Install the CRM, load demo data into an empty database, print the sign-ins, and serve the web pages."""
    ctx: Context = click_ctx.find_object(Context)
    loom = ctx.loom  # creates Loom's own tables when they are missing
    click.echo(f"database: {ctx.url}")
    _install_crm(loom)
    report = _load(loom, seed, customers, password)
    _print_logins(report.logins if report.loaded else demo_logins(loom, password))
    if not report.loaded:
        click.echo("  (passwords as set when the demo data was loaded)")
    if not no_serve:
        click.echo(f"open http://{host}:{port}/ and sign in as one of the users above")
        click.echo(f"the public lead form: http://{host}:{port}/public/forms/{DEMO_PUBLIC_FORM}")
        click_ctx.invoke(run_server, host=host, port=port)


DEMO_PUBLIC_FORM = "web_lead"  # the CRM's public form (its metadata makes it public)


def _install_crm(loom: Loom) -> None:
    """Install the CRM when it is missing; an installed copy of the same version is brought up to
    date the way `loom install` does it, keeping the admins' changes."""
    shipped = read_package(CRM_PACKAGE).manifest
    version = shipped.get("version") if shipped else None
    with loom.read() as conn:
        installed = installed_package(conn, "crm")
    if installed is not None and installed.version != version:
        click.echo(f"package:  crm {installed.version} (installed; left as it is)")
        return
    checked, plan = install_package(loom, CRM_PACKAGE)
    steps = len(plan.lines())
    click.echo(f"package:  {checked.manifest.name} {checked.manifest.version} ({steps} change(s) applied)")


def _load(loom: Loom, seed: int, customers: int, password: str) -> DemoReport:
    try:
        report = load_demo_data(loom, seed=seed, customers=customers, password=password)
    except LoomError as error:
        _fail(error)
        raise  # not reached: _fail exits
    click.echo(report.message)
    return report


def _print_logins(logins: tuple[DemoLogin, ...]) -> None:
    click.echo("sign in with:")
    click.echo(f"  {'username':<10} {'password':<14} {'role':<14} who")
    for login in logins:
        who = (
            f"{login.display_name}（{login.title}）" if login.display_name != login.username else login.title
        )
        click.echo(f"  {login.username:<10} {login.password:<14} {login.role:<14} {who}")
