"""The ``datasette secrets`` commands' runtime: each command's work runs in
``run``, with the plugin's State of a Datasette started for it (``started``,
shut down afterwards), and the errors that work may meet become messages.
Before a change, a command checks here that the configured keys can read
what is stored (``require_key``, ``check_key``, ``key_checked``).

The Datasette itself is built from ``datasette serve``'s options by
``serve_options``.
"""

import asyncio
import contextlib

import click
from datasette.utils import StartupError
from datasette.utils.sqlite import sqlite3

from . import key_fit, rules, store, terminal
from .config import PLUGIN, ConfigError
from .core import Conflict, ready
from .crypto import GENERATE_COMMAND
from .terminal import echo


@contextlib.asynccontextmanager
async def started(ds):
    """The plugin's State of ``ds``, started; shut down afterwards (writing what is buffered)."""
    try:
        await ds.invoke_startup()
        state = await ready(ds)
    except (StartupError, ConfigError) as e:
        raise click.ClickException(str(e))
    try:
        yield state
    finally:
        await ds.invoke_shutdown()


def run(ds, work):
    """``await work(state)`` with ``ds`` started; its errors become messages."""

    async def work_started():
        async with started(ds) as state:
            return await work(state)

    try:
        return asyncio.run(work_started())
    except Conflict as e:
        raise click.ClickException(e.args[0])
    except rules.Refused as e:  # what the rules do not allow, as a page would refuse it
        raise click.ClickException(f"{terminal.printable(e.args[0])}.")
    except store.SecretStoreError as e:  # a read through the plugin's cache
        raise click.ClickException(str(e))
    except sqlite3.Error as e:  # each change is one transaction: a failed one changed nothing
        raise click.ClickException(store.describe(e))


# Before a change: can the configured keys read what is stored?


def require_key(state):
    """Stop the command when no encryption_key is configured: nothing could be stored."""
    if state.settings.key_provider is not None and not state.settings.has_key:
        raise click.ClickException(f"{PLUGIN}: {state.settings.missing_key}, so values cannot be stored.")
    if not state.settings.has_key:
        raise click.ClickException(
            f"{PLUGIN}: no encryption_key is configured, so values cannot be stored. "
            f"Make a key with: {GENERATE_COMMAND}"
        )


STORE_REFUSED = (
    "Nothing was stored. If the stored values are lost for good and this key is to replace "
    "theirs, run again with --force."
)
ROTATE_REFUSED = (
    "Nothing was changed: a rotation with these keys could re-encrypt nothing. --dry-run lists "
    "every version they cannot decrypt."
)


async def check_key(state, go_on, refusal=STORE_REFUSED):
    """Stop with ``refusal`` when the configured keys decrypt none of the stored
    versions (key_fit.key_problem); with ``go_on``, only warn."""
    problem = await key_fit.key_problem(state)
    if problem is None:
        return
    if not go_on:
        raise click.ClickException(f"{problem} {refusal}")
    echo(f"Warning: {problem}", err=True)


def key_checked(work, go_on):
    """``work(state)``, after ``check_key``: before anything is read or asked for."""

    async def checked(state):
        await check_key(state, go_on)
        return await work(state)

    return checked
