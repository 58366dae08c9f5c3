"""The list puts what needs someone first (issue 21): due for rotation, cannot be
read, shadowed by the environment, no longer used (an orphan); then the values
plugins get; then the rest (not set, deleted); by name within each. Whether a
stored value can be read is worked out once per cache epoch, not by decrypting
every stored value on every load of the list."""

import pytest

from datasette_secrets import Secret
from datasette_secrets.core import ready
from datasette_secrets.crypto import Key
from datasette_secrets.views.paging import PAGE_SIZE
from secret_helpers import ROOT, insert_row, secrets_db, secrets_plugin, shown, store_value

REGISTERED = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "INDIA", "JULIET"]
ORDER = [
    "CHARLIE",  # due for rotation
    "DELTA",  # cannot be read: stored under another key
    "ECHO",  # shadowed: stored, and its variable wins
    "HOTEL",  # an orphan: stored, registered by no plugin
    "BRAVO", "FOXTROT", "JULIET",  # values plugins get: stored, or from the environment
    "ALPHA", "GOLF", "INDIA",  # none: not set, deleted
]


@pytest.mark.asyncio
async def test_what_needs_someone_comes_first(register_plugin, make_datasette, key, other_key, monkeypatch):
    register_plugin(secrets_plugin(*(Secret(name, f"The {name} key") for name in REGISTERED)), "order-plugin")
    ds = make_datasette(settings={"max_age_days": 30})
    await ds.invoke_startup()
    for name in ("BRAVO", "CHARLIE", "ECHO", "GOLF", "JULIET"):
        await store_value(ds, name, f"{name.lower()}-value")
    assert (await ds.client.post("/-/secrets/GOLF/delete", actor=ROOT)).status_code == 302
    await secrets_db(ds).execute_write(
        "update datasette_secrets set created_at = datetime('now', '-31 days') where name = 'CHARLIE'"
    )
    await insert_row(ds, "DELTA", Key(other_key).encrypt("DELTA", 1, "delta-value"), Key(other_key).id)
    await insert_row(ds, "HOTEL", Key(key).encrypt("HOTEL", 1, "hotel-value"), Key(key).id)
    monkeypatch.setenv("DATASETTE_SECRETS_ECHO", "echo-from-the-environment")
    monkeypatch.setenv("DATASETTE_SECRETS_FOXTROT", "foxtrot-from-the-environment")
    (await ready(ds)).cache.forget()  # the rows written straight to the table, as another process's

    response = await ds.client.get("/-/secrets", actor=ROOT)
    assert shown(response) == ORDER
    # Filtered, the same order
    assert shown(await ds.client.get("/-/secrets?q=key", actor=ROOT)) == [n for n in ORDER if n != "HOTEL"]
    assert shown(await ds.client.get("/-/secrets?status=set", actor=ROOT)) == ["CHARLIE", "DELTA", "BRAVO", "JULIET"]

    # A new version of CHARLIE is no longer due: it joins the values in use, by name
    await store_value(ds, "CHARLIE", "charlie-rotated")
    assert shown(await ds.client.get("/-/secrets", actor=ROOT)) == [
        "DELTA", "ECHO", "HOTEL", "BRAVO", "CHARLIE", "FOXTROT", "JULIET", "ALPHA", "GOLF", "INDIA",
    ]


@pytest.mark.asyncio
async def test_whether_a_value_can_be_read_is_worked_out_once_per_cache_epoch(register_plugin, make_datasette, monkeypatch):
    names = [f"KEY_{i:03d}" for i in range(PAGE_SIZE + 20)]
    register_plugin(secrets_plugin(*(Secret(name) for name in names)), "epoch-plugin")
    ds = make_datasette()
    await ds.invoke_startup()
    for name in names:
        await store_value(ds, name, f"value-of-{name}")
    keyring = (await ready(ds)).settings.keyring
    decrypted = []
    original = keyring.decrypt

    def counted(name, *args, **kwargs):
        decrypted.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(keyring, "decrypt", counted)

    async def load():
        decrypted.clear()
        response = await ds.client.get("/-/secrets", actor=ROOT)
        assert len(shown(response)) == PAGE_SIZE
        return sorted(decrypted)

    # The first load of an epoch checks every stored value once (and reads the rows
    # it shows again, for their last four characters); the next, only the rows shown.
    first = await load()
    assert len(first) == len(names) + PAGE_SIZE
    assert await load() == sorted(names[:PAGE_SIZE]), "a second load reads only the rows it shows"
    await store_value(ds, names[-1], "a-new-value")
    after = await load()
    assert after.count(names[-1]) == 1 and len(after) == PAGE_SIZE + 1, (
        "after one change, only the changed row is read again (and the rows shown)"
    )


@pytest.mark.asyncio
async def test_a_key_installed_later_reads_what_it_can(register_plugin, make_datasette, key, other_key):
    """Whether a value can be read is known per cache epoch and per set of keys: a key that
    arrives later (a provider's data key unwrapped after startup) moves a value it reads
    from "cannot be read" to the values in use, with no change to the stored rows."""
    register_plugin(secrets_plugin(*(Secret(name) for name in ("ALPHA", "BRAVO", "CHARLIE"))), "keys-plugin")
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "ALPHA", "alpha-value")
    await insert_row(ds, "CHARLIE", Key(other_key).encrypt("CHARLIE", 1, "charlie-value"), Key(other_key).id)
    state = await ready(ds)
    state.cache.forget()
    assert shown(await ds.client.get("/-/secrets", actor=ROOT)) == ["CHARLIE", "ALPHA", "BRAVO"]

    state.settings.keyring.install([Key(key), Key(other_key)])
    assert shown(await ds.client.get("/-/secrets", actor=ROOT)) == ["ALPHA", "CHARLIE", "BRAVO"]
