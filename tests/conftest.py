"""Fixtures shared by the whole suite.

- ``key`` / ``other_key``: fresh encryption keys (Fernet format).
- ``register_plugin``: registers a test plugin with Datasette's plugin manager
  and always unregisters it afterwards.
- ``example_plugin``: the standard test plugin, registering API_KEY, OTHER_KEY
  and ENV_KEY.
- ``make_datasette``: builds a configured ``datasette_test.Datasette``
  (``secret_helpers.new_datasette``).
- ``ds``: a started Datasette with the example plugin and a key.
- ``clock``: a FakeClock as the plugin's clock in every Datasette of the test.
- ``internal`` / ``options``: an empty internal database file, and the
  serve-like options (``--internal`` and a config with the key) the
  ``datasette secrets`` commands take.
"""

import functools
import os

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from datasette import hookimpl
from datasette.plugins import pm
from hypothesis import HealthCheck, settings

from datasette_secrets import core, usage
from datasette_secrets.state import STATES, State
from secret_helpers import (
    DEFAULT_PERMISSIONS,
    EXAMPLE_SECRETS,
    FakeClock,
    new_database,
    new_datasette,
    plugin_module,
    secrets_plugin,
    write_config,
)

# Hypothesis: few examples by default (scripts/test, CI), many with
# HYPOTHESIS_PROFILE=thorough. No .hypothesis/ folder in the work tree: a
# failure prints its example. One failure shrunk, not every kind: a failing
# run stays short. Each test builds its Datasette once for all its examples.
COMMON = dict(
    deadline=None,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile("quick", max_examples=5, **COMMON)
settings.register_profile("thorough", max_examples=200, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

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
def clock(monkeypatch):
    """The plugin's one clock (``State.clock``: rate limits, pending imports, the
    once-a-second looks, usage writes), faked for every Datasette of this test,
    made before or after: time passes for the plugin only when the test moves
    it (``clock.now += 1.1``). asyncio's clock, time.monotonic, is left alone,
    and a scheduled usage write looks at the clock every millisecond instead of
    every second (``await state.usage.scheduled()`` waits for it)."""
    fake = FakeClock()
    monkeypatch.setattr(core, "State", functools.partial(State, clock=fake))
    for state in list(STATES.values()):
        monkeypatch.setattr(state, "clock", fake)
    monkeypatch.setattr(usage, "FLUSH_EVERY", 0.001)
    return fake


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


@pytest.fixture
def make_datasette(key):
    """make_datasette(key=..., permissions=..., **settings, datasette kwargs).

    ``key=None`` configures no encryption key. Plugin settings (``database``,
    ``reveal``, ``reveal_seconds``, ...) go in ``settings``; anything else is
    passed to Datasette.
    """

    def make(key=key, permissions=DEFAULT_PERMISSIONS, settings=None, **kwargs):
        return new_datasette(key, permissions, settings, **kwargs)

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
