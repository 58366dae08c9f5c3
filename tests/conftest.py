"""Fixtures shared by the whole suite.

- ``key`` / ``other_key``: fresh encryption keys (Fernet format).
- ``register_plugin``: registers a test plugin with Datasette's plugin manager
  and always unregisters it afterwards.
- ``example_plugin``: the standard test plugin, registering API_KEY, OTHER_KEY
  and ENV_KEY.
- ``make_datasette``: builds a configured ``datasette_test.Datasette``.
- ``ds``: a started Datasette with the example plugin and a key.
- ``internal`` / ``options``: an empty internal database file, and the
  serve-like options (``--internal`` and a config with the key) the
  ``datasette secrets`` commands take.
"""

import os

import datasette_test
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from datasette import hookimpl
from datasette.plugins import pm

from datasette_secrets.views.render import SharedBytecodeCache
from secret_helpers import (
    DEFAULT_PERMISSIONS,
    EXAMPLE_SECRETS,
    new_database,
    plugin_module,
    secrets_plugin,
    write_config,
)

@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No DATASETTE_SECRETS_* variable from the outside leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DATASETTE_SECRETS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def key():
    return Fernet.generate_key().decode()


@pytest.fixture
def other_key():
    return Fernet.generate_key().decode()


@pytest.fixture
def register_plugin():
    """register_plugin(plugin, name): registered for this test only."""
    names = []

    def register(plugin, name):
        pm.register(plugin, name=name)
        names.append(name)
        return plugin

    yield register
    for name in reversed(names):
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)


@pytest.fixture
def events(register_plugin):
    """Every Datasette event tracked during the test, in order."""
    tracked = []

    @hookimpl
    def track_event(datasette, event):
        tracked.append(event)

    register_plugin(plugin_module("event_tracker", track_event=track_event), "event-tracker")
    return tracked


@pytest.fixture
def example_plugin(register_plugin):
    return register_plugin(secrets_plugin(*EXAMPLE_SECRETS), "example-secrets-plugin")


# Compiled page templates shared by every Datasette the suite makes. Only for
# speed: each Datasette has its own (asynchronous) Jinja environment, and
# compiling the same templates again for each of hundreds of instances
# dominated the run time. Jinja checks each template's source checksum, so an
# edited template is still compiled afresh. (Fragments have their own cache.)
TEMPLATE_CACHE = SharedBytecodeCache()


@pytest.fixture
def make_datasette(key):
    """make_datasette(key=..., permissions=..., **settings, datasette kwargs).

    ``key=None`` configures no encryption key. Plugin settings (``database``,
    ``reveal``, ``reveal_seconds``, ...) go in ``settings``; anything else is
    passed to Datasette.
    """

    def make(key=key, permissions=DEFAULT_PERMISSIONS, settings=None, **kwargs):
        plugin_settings = {}
        if key is not None:
            plugin_settings["encryption_key"] = key
        plugin_settings.update(settings or {})
        datasette = datasette_test.Datasette(
            plugin_config={"datasette-secrets": plugin_settings},
            permissions=permissions,
            **kwargs,
        )
        # A speed-up that leans on a Datasette internal: skip it if that moves.
        environment = getattr(datasette, "_jinja_env", None)
        if environment is not None:
            environment.bytecode_cache = TEMPLATE_CACHE
        return datasette

    return make


@pytest_asyncio.fixture
async def ds(example_plugin, make_datasette):
    datasette = make_datasette()
    await datasette.invoke_startup()
    return datasette


@pytest.fixture
def internal(tmp_path):
    """An empty internal database file (a module that wants only a path overrides this)."""
    return new_database(tmp_path / "internal.db")


@pytest.fixture
def options(tmp_path, internal, key, example_plugin):
    """The serve-like options every ``datasette secrets`` command takes."""
    return ["--internal", internal, "-c", write_config(tmp_path, {"encryption_key": key})]
