"""The envelope with a fake key provider (tests/provider_helpers.FakeProvider):
the first start, no provider call on any read or write, one unwrap for many
first reads, replicas, every failure mode (unreachable, hanging, denied, a
copied database), retries on an injected clock, and no credential anywhere.
The same flows against a real OpenBao are in test_vault_transit.py."""

import asyncio
import sqlite3

import datasette_test
import pytest
from datasette.utils import StartupError

from datasette_secrets import (
    SecretDecryptionError,
    SecretKeyUnavailableError,
    get_config,
    get_secret,
)
from datasette_secrets import envelope
from datasette_secrets.state import STATES
from provider_helpers import FAKE_TOKEN, FakeProvider, StepClock, fake_provider_plugin, until
from secret_helpers import (
    DEFAULT_PERMISSIONS,
    ROOT,
    audit_rows,
    new_database,
    parse,
    secret_rows,
    store_value,
)

pytestmark = pytest.mark.asyncio

CONFIG = {"key_provider": {"fake": {"key": "site-key", "token": FAKE_TOKEN}}}


@pytest.fixture
def fake(register_plugin, example_plugin):
    FakeProvider.instances.clear()
    register_plugin(fake_provider_plugin(), "fake-provider")
    return FakeProvider


@pytest.fixture
def clock(monkeypatch):
    clock = StepClock()
    monkeypatch.setattr(envelope, "default_clock", lambda: clock)
    return clock


@pytest.fixture
def internal_db(tmp_path):
    return new_database(tmp_path / "internal.db")


def site(internal_db, config=CONFIG, **kwargs):
    return datasette_test.Datasette(
        plugin_config={"datasette-secrets": config}, permissions=DEFAULT_PERMISSIONS, internal=internal_db, **kwargs
    )


def provider_of(ds):
    return STATES[id(ds)].envelope.provider


async def wrapped_rows(ds):
    result = await ds.get_internal_database().execute(
        "select key_id, wrapped, provider, provider_key, provider_version, current from datasette_secrets_wrapped_keys"
    )
    return [dict(row) for row in result.rows]


async def close(ds):
    await ds.invoke_shutdown()


async def test_first_start_makes_one_data_key_stored_only_wrapped(fake, internal_db, clock):
    ds = site(internal_db)
    await ds.invoke_startup()
    provider = provider_of(ds)
    assert provider.calls == ["wrap"]  # made and wrapped here: nothing to unwrap
    rows = await wrapped_rows(ds)
    assert len(rows) == 1 and rows[0]["current"] == 1 and rows[0]["provider"] == "fake"
    assert rows[0]["provider_key"] == "site-key" and rows[0]["provider_version"] == "1"
    key = STATES[id(ds)].settings.keyring.primary
    assert key.id == rows[0]["key_id"]
    # The data key is in no table in the clear.
    dump = "\n".join(ds.get_internal_database().connect().iterdump())
    assert key.text not in dump
    await store_value(ds, "API_KEY", "sk-first")
    assert await get_secret(ds, "API_KEY") == "sk-first"
    assert (await secret_rows(ds, "API_KEY"))[0]["encryption_key_name"] == key.id
    await close(ds)


async def test_no_read_or_write_calls_the_provider(fake, internal_db, clock):
    ds = site(internal_db)
    await ds.invoke_startup()
    provider = provider_of(ds)
    calls = len(provider.calls)
    await store_value(ds, "API_KEY", "sk-one")
    for _ in range(50):
        assert await get_secret(ds, "API_KEY") == "sk-one"
    assert (await ds.client.get("/-/secrets", actor=ROOT)).status_code == 200
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT)).status_code == 200
    await store_value(ds, "API_KEY", "sk-two")
    assert await get_secret(ds, "API_KEY") == "sk-two"
    assert len(provider.calls) == calls
    await close(ds)


async def test_a_thousand_concurrent_first_reads_make_one_unwrap_call(fake, internal_db, clock):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-shared")
    await close(first)
    fresh = site(internal_db)  # a new process: nothing unwrapped, startup not run yet
    values = await asyncio.gather(*(get_secret(fresh, "API_KEY") for _ in range(1000)))
    assert set(values) == {"sk-shared"}
    assert provider_of(fresh).calls == ["unwrap"]
    await close(fresh)


async def test_replicas_starting_together_end_with_one_data_key(fake, tmp_path, clock):
    # Each replica its own internal database, the secrets in one shared file.
    shared = new_database(tmp_path / "vault.db")
    config = {**CONFIG, "database": "vault"}
    replicas = [
        datasette_test.Datasette([shared], plugin_config={"datasette-secrets": config}, permissions=DEFAULT_PERMISSIONS)
        for _ in range(4)
    ]
    await asyncio.gather(*(ds.invoke_startup() for ds in replicas))
    result = await replicas[0].get_database("vault").execute("select key_id from datasette_secrets_wrapped_keys")
    rows = [dict(row) for row in result.rows]
    assert len(rows) == 1
    assert {STATES[id(ds)].settings.keyring.primary.id for ds in replicas} == {rows[0]["key_id"]}
    await store_value(replicas[0], "API_KEY", "sk-from-one")
    for ds in replicas:
        STATES[id(ds)].cache.forget()
        assert await get_secret(ds, "API_KEY") == "sk-from-one"
    for ds in replicas:
        await close(ds)


async def test_unreachable_at_startup_starts_fails_fast_and_recovers_on_the_clock(
    fake, internal_db, clock, monkeypatch, caplog
):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-kept")
    await close(first)

    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    base = len(clock.sleeps)  # the first process's watch slept on this clock too
    ds = site(internal_db)
    FakeProvider.instances.clear()
    real_init = FakeProvider.__init__

    def down_at_first(self, options):
        real_init(self, options)
        self.fault = "down"

    monkeypatch.setattr(FakeProvider, "__init__", down_at_first)
    await ds.invoke_startup()  # Datasette starts
    provider = provider_of(ds)
    assert provider.calls == ["unwrap"]
    # Variables still work; a stored value raises the named error at once.
    assert await get_secret(ds, "ENV_KEY") == "from-the-environment"
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(ds, "API_KEY")
    assert isinstance(raised.value, SecretDecryptionError)
    assert "fake key 'site-key': unreachable" in str(raised.value)
    # The admin page says so; a save is refused with the reason, nothing stored.
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    banner = page.select_one(".secrets-key-unavailable")
    assert banner is not None and "unreachable" in banner.text
    refused = await ds.client.post("/-/secrets/API_KEY", data={"secret": "sk-new", "note": ""}, actor=ROOT)
    assert refused.status_code == 409 and "The data key is not available" in refused.text
    assert [row["version"] for row in await secret_rows(ds, "API_KEY")] == [1]
    # Retries back off on the clock: 1, 2, 4, ... up to 60 seconds apart.
    sleeps = lambda: clock.sleeps[base:]  # noqa: E731
    for tried, expected in enumerate([1, 2, 4, 8, 16, 32, 60, 60], start=1):
        await until(lambda: len(sleeps()) == tried)  # noqa: B023 (read at once)
        assert sleeps()[-1] == expected and len(provider.calls) == tried  # one attempt a wait, no more
        clock.advance(expected)
    await until(lambda: len(sleeps()) == 9)
    assert sleeps() == [1, 2, 4, 8, 16, 32, 60, 60, 60] and len(provider.calls) == 9
    # The provider answers again: the next retry recovers, without a restart.
    provider.fault = None
    clock.advance(60)
    await until(lambda: STATES[id(ds)].envelope.status == "available")
    assert await get_secret(ds, "API_KEY") == "sk-kept"
    assert STATES[id(ds)].envelope.last_unwrap is not None
    # One warning per distinct failure, naming provider and key, never the token.
    warnings = [r.getMessage() for r in caplog.records if "could not be unwrapped" in r.getMessage()]
    assert len(warnings) == 1 and "site-key" in warnings[0]
    assert FAKE_TOKEN not in caplog.text
    await close(ds)


async def test_get_secret_returns_while_the_provider_hangs_forever(fake, internal_db, clock, monkeypatch):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-kept")
    await close(first)
    monkeypatch.setattr(envelope, "STARTUP_WAIT", 0)  # startup waits on nothing: the provider never answers
    real_init = FakeProvider.__init__

    def hanging(self, options):
        real_init(self, options)
        self.fault = "hang"

    monkeypatch.setattr(FakeProvider, "__init__", hanging)
    ds = site(internal_db)
    await ds.invoke_startup()
    provider = provider_of(ds)
    await until(lambda: provider.calls == ["unwrap"])  # the unwrap is in flight, and never returns
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(ds, "API_KEY")
    assert "not unwrapped yet" in str(raised.value)
    assert provider.calls == ["unwrap"] and not provider.hanging.is_set()
    await close(ds)


async def test_access_denied_names_provider_and_key_never_the_token(fake, internal_db, clock, monkeypatch, caplog):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-kept")
    await close(first)
    real_init = FakeProvider.__init__

    def denied(self, options):
        real_init(self, options)
        self.fault = "denied"

    monkeypatch.setattr(FakeProvider, "__init__", denied)
    ds = site(internal_db)
    await ds.invoke_startup()
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(ds, "API_KEY")
    assert "fake key 'site-key': permission denied" in str(raised.value)
    keys_page = (await ds.client.get("/-/secrets/-/keys", actor=ROOT)).text
    index_page = (await ds.client.get("/-/secrets", actor=ROOT)).text
    assert "permission denied" in keys_page and "site-key" in keys_page
    for text in (str(raised.value), keys_page, index_page, caplog.text, repr(await audit_rows(ds))):
        assert FAKE_TOKEN not in text
    await close(ds)


async def test_a_copied_database_decrypts_nothing_elsewhere(fake, internal_db, tmp_path, clock):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-kept")
    await close(first)
    # Another host: its provider's key is not this site's.
    elsewhere = site(internal_db, {"key_provider": {"fake": {"key": "site-key", "host": "thief"}}})
    await elsewhere.invoke_startup()
    with pytest.raises(SecretKeyUnavailableError):
        await get_secret(elsewhere, "API_KEY")
    await close(elsewhere)
    # No provider at all: no key, nothing decrypts (None, as with no key configured).
    bare = site(internal_db, {})
    await bare.invoke_startup()
    assert await get_secret(bare, "API_KEY") is None
    await close(bare)


async def test_a_wrapped_key_moved_to_another_key_id_is_refused(fake, internal_db, clock):
    first = site(internal_db)
    await first.invoke_startup()
    await store_value(first, "API_KEY", "sk-kept")
    await close(first)
    # Someone who can write the database re-labels the wrapped key.
    with sqlite3.connect(internal_db) as conn:
        conn.execute("update datasette_secrets_wrapped_keys set key_id = 'aaaaaaaaaaaa'")
    ds = site(internal_db)
    await ds.invoke_startup()
    assert STATES[id(ds)].envelope.status == "unavailable"
    with pytest.raises(SecretKeyUnavailableError) as raised:
        await get_secret(ds, "API_KEY")
    assert "does not decrypt" in str(raised.value)
    await close(ds)


async def test_another_process_s_new_data_key_is_picked_up_in_the_background(fake, internal_db, clock):
    one, two = site(internal_db), site(internal_db)
    await one.invoke_startup()
    await two.invoke_startup()
    await store_value(one, "API_KEY", "sk-before")
    state_two = STATES[id(two)]
    old_id = state_two.settings.keyring.primary.id
    new_key = await STATES[id(one)].envelope.new_data_key()  # what rotate-key --new-data-key does first
    await store_value(one, "API_KEY", "sk-after")
    calls = list(provider_of(two).calls)
    # Process two reads nothing from the provider on its reads, and learns the key on its watch.
    assert state_two.settings.keyring.primary.id == old_id
    await until(lambda: envelope.WATCH_EVERY in clock.sleeps)
    clock.advance(envelope.WATCH_EVERY)
    await until(lambda: state_two.settings.keyring.primary.id == new_key.id)
    assert provider_of(two).calls == calls + ["unwrap"]
    assert [k.id for k in state_two.settings.keyring.keys] == [new_key.id, old_id]
    assert await get_secret(two, "API_KEY") == "sk-after"
    await close(one)
    await close(two)


@pytest.mark.parametrize(
    "config,message",
    [
        ({"key_provider": {"fake": {"nonsense": 1}}}, "key_provider fake: unknown setting 'nonsense'"),
        ({"key_provider": {"nowhere": {}}}, "no key provider is called 'nowhere'"),
        ({"key_provider": "vault"}, "'key_provider' must name one provider"),
        ({"key_provider": {"vault_transit": {"url": "http://x", "key": "k", "token": "t", "port": 1}}},
         "key_provider vault_transit: unknown setting 'port'"),
        ({"key_provider": {"vault_transit": {"url": "http://x", "key": "k", "token": None}}},
         "key_provider vault_transit: 'token' is not set"),
        ({"key_provider": {"aws_kms": {"key_id": "alias/x", "profile": "p"}}},
         "key_provider aws_kms: unknown setting 'profile'"),
    ],
)
async def test_a_bad_key_provider_stops_startup_with_a_clear_message(fake, internal_db, config, message):
    ds = site(internal_db, config)
    with pytest.raises(StartupError) as raised:
        await ds.invoke_startup()
    assert message in str(raised.value)


async def test_previous_keys_without_encryption_key_are_fine_under_a_provider(fake, internal_db, key, clock):
    ds = site(internal_db, {**CONFIG, "previous_encryption_keys": [key]})
    await ds.invoke_startup()
    keyring = STATES[id(ds)].settings.keyring
    assert len(keyring.keys) == 2 and keyring.keys[1].text == key  # the data key first
    await close(ds)
    bare = site(new_database(internal_db + "-2"), {"previous_encryption_keys": [key]})
    with pytest.raises(StartupError) as raised:
        await bare.invoke_startup()
    assert "or a key_provider" in str(raised.value)


async def test_a_configured_key_that_is_not_the_wrapped_one_refuses_to_start(fake, internal_db, key, clock):
    ds = site(internal_db)
    await ds.invoke_startup()
    wrapped_id = STATES[id(ds)].settings.keyring.primary.id
    await close(ds)
    both = site(internal_db, {**CONFIG, "encryption_key": key})
    with pytest.raises(StartupError) as raised:
        await both.invoke_startup()
    assert f"is not the data key stored wrapped by the key_provider (key id {wrapped_id})" in str(raised.value)


async def test_values_stored_without_a_wrapped_key_refuse_a_new_data_key(fake, internal_db, key, clock):
    local = site(internal_db, {"encryption_key": key})
    await local.invoke_startup()
    await store_value(local, "API_KEY", "sk-local")
    await close(local)
    ds = site(internal_db)
    with pytest.raises(StartupError) as raised:
        await ds.invoke_startup()
    assert "run 'datasette secrets wrap-key'" in str(raised.value)


async def test_get_config_never_hands_out_the_data_key(fake, internal_db, clock):
    ds = site(internal_db)
    await ds.invoke_startup()
    assert get_config(ds) is None
    await close(ds)
