"""The register_secrets hook, and the Datasette hooks the plugin feeds (events)."""

import logging

import pytest
from datasette import hookimpl

from datasette_secrets import Secret, get_secret, get_secrets
from secret_helpers import HX, ROOT, parse, plugin_module, row_of, secrets_plugin, store_value

SECRET = Secret("SHAPED_KEY", "Registered in some shape")


def shaped_hook(shape, takes_datasette, seen):
    """A register_secrets implementation returning SECRET in the given shape."""

    def result():
        if shape == "list":
            return [SECRET]
        if shape == "function":
            return lambda: [SECRET]

        async def later():
            return [SECRET]

        return later

    if takes_datasette:

        @hookimpl
        def register_secrets(datasette):
            seen.append(datasette)
            return result()

    else:

        @hookimpl
        def register_secrets():
            seen.append(None)
            return result()

    return register_secrets


@pytest.mark.asyncio
@pytest.mark.parametrize("shape", ["list", "function", "async function"])
@pytest.mark.parametrize("takes_datasette", [True, False], ids=["with-datasette", "without-datasette"])
async def test_hook_shapes(shape, takes_datasette, register_plugin, make_datasette, monkeypatch):
    seen = []
    register_plugin(
        plugin_module("shaped", register_secrets=shaped_hook(shape, takes_datasette, seen)),
        "shaped-plugin",
    )
    ds = make_datasette()
    assert await get_secrets(ds) == [SECRET]
    assert seen, "the hook was not called"
    if takes_datasette:
        assert seen[0] is ds
    monkeypatch.setenv("DATASETTE_SECRETS_SHAPED_KEY", "from-env")
    assert await get_secret(ds, "SHAPED_KEY") == "from-env"
    # and the admin page lists it
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    assert row_of(parse(response), "SHAPED_KEY") is not None


@pytest.mark.asyncio
async def test_async_hook_implementation(register_plugin, make_datasette):
    @hookimpl
    async def register_secrets(datasette):
        return [SECRET]

    register_plugin(plugin_module("async_impl", register_secrets=register_secrets), "async-impl")
    assert await get_secrets(make_datasette()) == [SECRET]


@pytest.mark.asyncio
async def test_secrets_from_several_plugins_are_combined(register_plugin, make_datasette):
    register_plugin(secrets_plugin(Secret("ONE")), "plugin-one")
    register_plugin(secrets_plugin(Secret("TWO"), Secret("THREE")), "plugin-two")
    names = sorted(secret.name for secret in await get_secrets(make_datasette()))
    assert names == ["ONE", "THREE", "TWO"]


@pytest.mark.asyncio
@pytest.mark.parametrize("registration_order", ["a-first", "z-first"])
async def test_duplicate_name_first_plugin_alphabetically_wins(registration_order, register_plugin, make_datasette):
    plugins = {
        "aaa-plugin": secrets_plugin(Secret("SHARED", "from aaa")),
        "zzz-plugin": secrets_plugin(Secret("SHARED", "from zzz")),
    }
    order = sorted(plugins) if registration_order == "a-first" else sorted(plugins, reverse=True)
    for name in order:
        register_plugin(plugins[name], name)
    ds = make_datasette()
    assert await get_secrets(ds) == [Secret("SHARED", "from aaa")]
    response = await ds.client.get("/-/secrets", actor=ROOT)
    row = row_of(parse(response), "SHARED")
    assert row.select_one(".secret-description").get_text() == "from aaa"
    assert "aaa-plugin" in row.select_one(".secret-plugin").get_text()
    assert len(parse(response).select("tbody.secret")) == 1


@pytest.mark.asyncio
async def test_duplicate_within_one_plugin_first_occurrence_wins(register_plugin, make_datasette):
    register_plugin(
        secrets_plugin(Secret("SHARED", "first"), Secret("OTHER"), Secret("SHARED", "second")),
        "one-plugin",
    )
    assert await get_secrets(make_datasette()) == [Secret("SHARED", "first"), Secret("OTHER")]


INVALID = {
    "a string": "NOT_A_SECRET",
    "a dict": {"name": "DICT_SECRET"},
    "None": None,
    "starts with a digit": Secret("1_KEY"),
    "has a dash": Secret("MY-KEY"),
    "has a space": Secret("MY KEY"),
    "has a slash": Secret("MY/KEY"),
    "empty name": Secret(""),
    "trailing newline": Secret("MY_KEY\n"),
    "non-ascii letter": Secret("CLÉ"),
    "name is None": Secret(None),
    "name is a number": Secret(123),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("invalid", INVALID.values(), ids=INVALID.keys())
async def test_invalid_entries_are_skipped_with_a_warning(invalid, register_plugin, make_datasette, caplog):
    register_plugin(secrets_plugin(Secret("GOOD_BEFORE"), invalid, Secret("GOOD_AFTER")), "mixed-plugin")
    ds = make_datasette()
    with caplog.at_level(logging.WARNING, logger="datasette_secrets"):
        secrets = await get_secrets(ds)
    assert secrets == [Secret("GOOD_BEFORE"), Secret("GOOD_AFTER")]
    warnings = [r for r in caplog.records if r.name == "datasette_secrets" and r.levelno == logging.WARNING]
    assert warnings, "no warning was logged"
    assert "mixed-plugin" in warnings[0].getMessage()
    # the admin page still works and shows only the valid secrets
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    names = [code.get_text() for code in parse(response).select("th.secret-name code")]
    assert names == ["GOOD_AFTER", "GOOD_BEFORE"]


@pytest.mark.asyncio
async def test_hook_returning_nothing_registers_nothing(register_plugin, make_datasette):
    @hookimpl
    def register_secrets():
        return None

    register_plugin(plugin_module("empty", register_secrets=register_secrets), "empty-plugin")
    ds = make_datasette()
    assert await get_secrets(ds) == []
    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert response.status_code == 200
    assert parse(response).select_one("p.secrets-empty") is not None


@pytest.mark.asyncio
async def test_events_are_tracked_without_values(ds, events):
    value = "event-value-must-not-leak-9271"
    await store_value(ds, "API_KEY", value)
    await store_value(ds, "API_KEY", value + "-2")
    await store_value(ds, "API_KEY", "", note="a new note")
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 200
    assert (await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT)).status_code == 302
    assert (await ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT)).status_code == 302
    ours = [e for e in events if e.name.endswith(("-secret", "-secret-note"))]
    assert [(e.name, e.secret_name, getattr(e, "version", None)) for e in ours] == [
        ("set-secret", "API_KEY", 1),
        ("set-secret", "API_KEY", 2),
        ("update-secret-note", "API_KEY", 2),
        ("reveal-secret", "API_KEY", 2),
        ("set-secret", "API_KEY", 3),
        ("delete-secret", "API_KEY", None),
    ]
    for event in ours:
        assert event.actor == ROOT
        assert value not in repr(event.properties())
        assert value not in repr(event)


@pytest.mark.asyncio
async def test_no_events_for_rejected_changes(ds, events):
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "", "note": ""}, actor=ROOT, headers=HX)
    assert response.status_code == 422
    response = await ds.client.post("/-/secrets/API_KEY", data={"secret": "x", "note": ""}, actor={"id": "alice"})
    assert response.status_code == 403
    assert [e for e in events if e.name.endswith("-secret")] == []
