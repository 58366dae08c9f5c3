"""The imitation of ``datasette serve``'s options for the ``datasette secrets`` commands.

``serve_options`` gives a command the options that decide the configuration
and where secrets live, and a Datasette built from them as ``datasette serve``
would build it (``build_datasette``); ``cli_runtime.run`` starts it and runs
the command's work.
"""

import functools
import os
import pathlib

import click
from datasette.utils import (
    BadMetadataError,
    StartupError,
    deep_dict_update,
    pairs_to_nested_config,
    parse_metadata,
)

from .config import PLUGIN, ConfigError, own_database, plugin_config


def serve_options(command=None, *, missing_file=None):
    """Decorator: the options of ``datasette serve`` that decide the configuration
    and where secrets live: database files, -c, -s, --internal, --plugins-dir.

    The command gets, as its first argument, a Datasette built from them as
    ``datasette serve`` would build it (not started: see ``cli_runtime.run``).
    ``missing_file``: the message for a file argument that does not exist,
    instead of one naming it (for commands where it may be a value typed by
    mistake). ``@serve_options`` and ``@serve_options(missing_file=...)`` both work.
    """
    if command is None:
        return functools.partial(serve_options, missing_file=missing_file)
    # Imported here: Datasette imports plugins while its cli module is still
    # loading, and defines Setting before it calls register_commands.
    from datasette.cli import Setting

    @functools.wraps(command)
    def with_datasette(*, files, config, settings, internal, plugins_dir, **kwargs):
        ds = build_datasette(files, config, settings, internal, plugins_dir, missing_file)
        return command(ds, **kwargs)

    options = [
        click.argument("files", type=click.Path(), nargs=-1),
        click.option(
            "-c",
            "--config",
            type=click.File(mode="r"),
            help="Path to JSON/YAML Datasette configuration file, as for datasette serve",
        ),
        click.option(
            "-s",
            "--setting",
            "settings",
            type=Setting(),
            multiple=True,
            help="nested.key, value setting, as for datasette serve",
        ),
        click.option(
            "--internal",
            type=click.Path(dir_okay=False),
            envvar="DATASETTE_INTERNAL",
            help="Path to the persistent internal database datasette serve uses",
        ),
        click.option(
            "--plugins-dir",
            type=click.Path(exists=True, file_okay=False, dir_okay=True),
            help="Path to directory containing custom plugins, as for datasette serve",
        ),
    ]
    for option in reversed(options):  # click lists them in the order above
        with_datasette = option(with_datasette)
    return with_datasette


def build_datasette(files, config, settings, internal, plugins_dir, missing_file=None):
    """A Datasette configured as `datasette serve` would be with these options."""
    from datasette.app import Datasette  # not at the top: datasette.app imports this plugin

    config_data = {}
    if config is not None:
        try:
            config_data = parse_metadata(config.read())
        except (BadMetadataError, UnicodeDecodeError) as e:
            raise click.ClickException(f"Could not read {config.name}: {e}")
        if config_data is None:
            config_data = {}
        if not isinstance(config_data, dict):
            raise click.ClickException(f"{config.name} is not a Datasette configuration file")
    if settings:
        deep_dict_update(config_data, pairs_to_nested_config(settings))

    kwargs = {"config": config_data, "plugins_dir": plugins_dir}
    directories = [f for f in files if os.path.isdir(f)]
    files = [f for f in files if not os.path.isdir(f)]
    if len(directories) > 1:
        raise click.ClickException(
            "Cannot pass multiple directories. Pass a single directory as config_dir."
        )
    if directories:
        kwargs["config_dir"] = pathlib.Path(directories[0])
    for file in files:
        if not os.path.exists(file):
            raise click.ClickException(missing_file or f"Database file {file!r} does not exist.")

    if internal is not None:
        if not os.path.exists(internal):
            # Datasette would make an empty one: a mistyped path would look like no secrets.
            raise click.ClickException(
                f"--internal {internal}: no such file, so nothing is stored there. "
                "Pass the path datasette serve uses with --internal "
                "(datasette serve --internal PATH makes a new one)."
            )
        kwargs["internal"] = internal
    try:
        ds = Datasette(files, **kwargs)
    except StartupError as e:
        raise click.ClickException(e.args[0])

    try:
        database = own_database(plugin_config(ds))
    except ConfigError as e:  # a {$file: ...} that cannot be read
        raise click.ClickException(str(e))
    if database is None and internal is None:
        raise click.ClickException(
            "Secrets are stored in Datasette's internal database (no 'database' is "
            f"configured for {PLUGIN}), but no --internal was given: pass the same "
            "--internal PATH as datasette serve."
        )
    if database is not None and database not in ds.databases:
        raise click.ClickException(
            f"{PLUGIN}: the configured database {database!r} is not attached: pass its "
            "file as an argument, as to datasette serve."
        )
    return ds
