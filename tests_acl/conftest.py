"""Fixtures for the datasette-acl tests: run only in .venv-acl (scripts/setup-acl),
where datasette-acl is installed and loads in every Datasette. The main suite's
helpers (tests/secret_helpers.py) are shared; its conftest is not, so the few
fixtures needed are here."""

import functools
import os
import sys

import pytest
from cryptography.fernet import Fernet
from datasette.plugins import pm

from datasette_secrets import core
from datasette_secrets.state import STATES, State

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from secret_helpers import FakeClock  # noqa: E402 (found through the path just set)


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
def clock(monkeypatch):
    """The plugin's one clock (State.clock), faked for every Datasette of this
    test: the once-a-second look for changed grants sees one only when the
    test moves it (``clock.now += 1.1``)."""
    fake = FakeClock()
    monkeypatch.setattr(core, "State", functools.partial(State, clock=fake))
    for state in list(STATES.values()):
        monkeypatch.setattr(state, "clock", fake)
    return fake
