"""The `loom` command group, its options and what every command shares: the database, the
language, how errors are reported, and the user a command runs as."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import InvalidMetadata, LoomError
from engine.loom import Loom
from runtime.instance import database_url


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
    """Turn a LoomError into `error: …` on stderr and exit status 1; metadata refused lists each
    problem (nothing was applied)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except InvalidMetadata as error:
            _report_problems(error)
        except LoomError as error:
            _fail(error)

    return run


def actor_named(loom: Loom, username: str | None) -> Actor:
    """The user a command runs as (`--as USERNAME`); the system when none is named."""
    if username is None:
        return SYSTEM
    return identity.actor_for(loom, identity.user_by_username(loom, username)["id"])
