"""Names the published datasette-secrets 0.3a0 exposed keep working for its users.

``get_config(datasette)`` is 0.3a0's: ``None`` without a key, else the
configured database's name and the key's text. Plugins and 0.3a0's own tests
import it (tests/published runs those tests against this plugin).
"""

import datasette_test
import pytest

KEY = "-LujHtwFWGaBpznrV1zduoZBmCnMOW7J0H5hmeXgAVo="  # a Fernet key, as 0.3a0 used

# (plugin configuration, what 0.3a0's get_config returns for it)
CONFIGS = {
    "0.3a0's spelling, internal database named": (
        {"encryption-key": KEY, "database": "_internal"},
        {"database": "_internal", "encryption_key": KEY},
    ),
    "no database means the internal one": (
        {"encryption-key": KEY},
        {"database": "_internal", "encryption_key": KEY},
    ),
    "a database of its own": (
        {"encryption-key": KEY, "database": "vault"},
        {"database": "vault", "encryption_key": KEY},
    ),
    "key from an environment variable": (
        {"encryption-key": {"$env": "COMPAT_TEST_KEY"}},
        {"database": "_internal", "encryption_key": KEY},
    ),
    "no key": ({"database": "vault"}, None),
    "empty key": ({"encryption-key": ""}, None),
}


@pytest.mark.parametrize("plugin_config,expected", CONFIGS.values(), ids=CONFIGS.keys())
def test_get_config_returns_what_0_3a0_returned(plugin_config, expected, monkeypatch):
    from datasette_secrets import get_config

    monkeypatch.setenv("COMPAT_TEST_KEY", KEY)
    ds = datasette_test.Datasette(plugin_config={"datasette-secrets": plugin_config})
    assert get_config(ds) == expected


def test_get_config_without_any_plugin_config_is_none():
    from datasette_secrets import get_config

    assert get_config(datasette_test.Datasette()) is None


def test_get_config_reads_this_plugins_spelling_too():
    from datasette_secrets import get_config

    ds = datasette_test.Datasette(plugin_config={"datasette-secrets": {"encryption_key": KEY}})
    assert get_config(ds) == {"database": "_internal", "encryption_key": KEY}


def test_get_config_is_a_public_name():
    import datasette_secrets

    assert "get_config" in datasette_secrets.__all__
    namespace = {}
    exec("from datasette_secrets import *", namespace)
    assert namespace["get_config"] is datasette_secrets.get_config
