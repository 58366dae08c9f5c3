"""Many requests at once, through HTTP, as a busy admin page would send them.

Each change decides on the state it reads inside its own write transaction: a
change that loses a race gets a 409 with a clear message, never a 500 and never
a bogus value. The audit log's order is the order in which changes committed,
so it tells which of two racing requests went first.

The races are run many times, each request after a different number of event
loop turns (from a seeded random, so a failure repeats), to vary where they
interleave. No assertion depends on timing: after each race the audit log
says which request committed first, and a spy on the store says whether the
loser got as far as its write transaction; together they name the one status
each response must have.
"""

import asyncio
import random

import pytest

from datasette_secrets import Secret, get_secret, store
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, audit_rows, parse, secret_rows, secrets_plugin, store_value

PARALLEL = 50
ROUNDS = 30


def decrypted(key, rows):
    """{version: value} of a secret's stored rows, decrypted with ``key``."""
    k = Key(key)
    return {row["version"]: k.decrypt(row["name"], row["version"], row["encrypted"]) for row in rows}


@pytest.mark.asyncio
async def test_parallel_saves_to_one_secret(ds, key):
    values = [f"parallel-value-{i:02d}" for i in range(PARALLEL)]
    responses = await asyncio.gather(
        *(
            ds.client.post("/-/secrets/API_KEY", data={"secret": value, "note": f"note of {value}"}, actor=ROOT)
            for value in values
        )
    )
    assert [r.status_code for r in responses] == [302] * PARALLEL, [r.text[:200] for r in responses if r.status_code != 302]
    rows = await secret_rows(ds, "API_KEY")
    assert sorted(row["version"] for row in rows) == list(range(1, PARALLEL + 1)), "1..50, unique, no gaps"
    stored = decrypted(key, rows)
    assert sorted(stored.values()) == values, "every save kept its own value, bound to its own version"
    for row in rows:
        assert row["note"] == f"note of {stored[row['version']]}", "each version has the note sent with it"
    audit = [(a["action"], a["version"]) for a in await audit_rows(ds) if a["name"] == "API_KEY"]
    assert sorted(audit) == [("set", n) for n in range(1, PARALLEL + 1)], "one audit row per save"
    assert await get_secret(ds, "API_KEY") == stored[PARALLEL]


@pytest.mark.asyncio
async def test_parallel_saves_to_different_secrets(register_plugin, make_datasette, key):
    names = [f"PARALLEL_{i:02d}" for i in range(PARALLEL)]
    register_plugin(secrets_plugin(*(Secret(name, f"Parallel secret {name}") for name in names)), "parallel-secrets")
    ds = make_datasette()
    await ds.invoke_startup()
    responses = await asyncio.gather(
        *(ds.client.post(f"/-/secrets/{name}", data={"secret": f"value of {name}"}, actor=ROOT) for name in names)
    )
    assert [r.status_code for r in responses] == [302] * PARALLEL
    audit = await audit_rows(ds)
    for name in names:
        rows = await secret_rows(ds, name)
        assert [row["version"] for row in rows] == [1], name
        assert decrypted(key, rows) == {1: f"value of {name}"}
        assert [(a["action"], a["version"]) for a in audit if a["name"] == name] == [("set", 1)], name
        assert await get_secret(ds, name) == f"value of {name}"
    assert len(audit) == PARALLEL


async def after_turns(turns, request):
    """``request`` started after ``turns`` turns of the event loop."""
    for _ in range(turns):
        await asyncio.sleep(0)
    return await request


def said(response):
    return f"{response.status_code}: {response.text[:300]!r}"


def spy(monkeypatch, name):
    """Replace store.``name`` with a wrapper that keeps what each call returned: the
    list it returns says whether a request reached its write transaction."""
    answers = []
    original = getattr(store, name)

    async def spying(*args, **kwargs):
        answer = await original(*args, **kwargs)
        answers.append(answer)
        return answer

    monkeypatch.setattr(store, name, spying)
    return answers


def done(headers):
    """The status of a change that went through: a fragment for htmx, else a redirect."""
    return 200 if headers else 302


@pytest.mark.asyncio
async def test_note_only_save_racing_a_delete(ds, monkeypatch):
    """The note is changed before the delete (and is deleted with it), or it is refused.

    A refusal is a 409 when the save lost the race inside its transaction, or a
    422 ("enter a value") when it read the secret already deleted: either way it
    says so, and writes nothing.
    """
    turns = random.Random(1)
    outcomes = []
    note_writes = spy(monkeypatch, "update_note")
    for round in range(ROUNDS):
        await store_value(ds, "API_KEY", f"value {round}", note="before")
        audit_before = len(await audit_rows(ds))
        note_writes.clear()
        headers = HX if round % 2 else {}
        note_response, delete_response = await asyncio.gather(
            after_turns(
                turns.randrange(8),
                ds.client.post(
                    "/-/secrets/API_KEY", data={"secret": "", "note": f"after {round}"}, actor=ROOT, headers=headers
                ),
            ),
            after_turns(turns.randrange(8), ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT, headers=headers)),
        )
        where = f"round {round}, htmx={bool(headers)}: note {said(note_response)}; delete {said(delete_response)}"
        outcomes.append(note_response.status_code)
        actions = [a["action"] for a in (await audit_rows(ds))[audit_before:]]
        newest = (await secret_rows(ds, "API_KEY"))[-1]
        assert delete_response.status_code == done(headers), where  # nothing stops a delete
        assert newest["deleted_at"], where
        assert await get_secret(ds, "API_KEY") is None, where
        if actions == ["note", "delete"]:  # the note committed first
            assert note_response.status_code == done(headers), where
            assert newest["note"] == f"after {round}", where
        else:
            assert actions == ["delete"], f"a note saved after the delete committed: {where}"
            assert newest["note"] == "before", where
            if note_writes:  # it read the value, then found it gone inside its transaction
                assert note_writes == [store.GONE], where
                assert note_response.status_code == 409, where
                assert "API_KEY was deleted meanwhile" in note_response.text, f"a clear message: {where}"
            else:  # it read the secret already deleted: a note alone needs a value
                assert note_response.status_code == 422, where
                assert "value" in note_response.text, f"a clear message: {where}"
    print("note-only save statuses over the rounds:", outcomes)


@pytest.mark.asyncio
async def test_reveal_racing_a_delete(example_plugin, make_datasette, monkeypatch):
    """A reveal shows the value only if it was recorded before the delete committed.

    Otherwise it is refused (409 if it lost inside its transaction, 404 if it
    read the secret already deleted), recording nothing and showing nothing.
    """
    # Reveals are rate limited per actor; this test reveals once a round.
    ds = make_datasette(settings={"reveals_per_minute": 10 * ROUNDS})
    await ds.invoke_startup()
    turns = random.Random(2)
    outcomes = []
    reveal_writes = spy(monkeypatch, "reveal")
    for round in range(ROUNDS):
        value = f"reveal race value {round}"
        await store_value(ds, "API_KEY", value)
        (version,) = [row["version"] for row in await secret_rows(ds, "API_KEY") if not row["deleted_at"]]
        audit_before = len(await audit_rows(ds))
        reveal_writes.clear()
        headers = HX if round % 2 else {}
        reveal_response, delete_response = await asyncio.gather(
            after_turns(turns.randrange(8), ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=headers)),
            after_turns(turns.randrange(8), ds.client.post("/-/secrets/API_KEY/delete", actor=ROOT, headers=headers)),
        )
        where = f"round {round}, htmx={bool(headers)}: reveal {said(reveal_response)}; delete {said(delete_response)}"
        outcomes.append(reveal_response.status_code)
        audit = (await audit_rows(ds))[audit_before:]
        actions = [a["action"] for a in audit]
        assert delete_response.status_code == done(headers), where  # nothing stops a delete
        if actions == ["reveal", "delete"]:  # the reveal committed first
            assert reveal_response.status_code == 200, where
            shown = parse(reveal_response).select_one(".secret-revealed-value")
            assert shown is not None and shown.get_text() == value, f"a bogus value revealed: {where}"
            assert audit[0]["version"] == version, where
        else:
            assert actions == ["delete"], f"revealed after the delete committed: {where}"
            assert value not in reveal_response.text, where
            if reveal_writes:  # it saw a value, then found it gone inside its transaction
                assert reveal_writes == [store.GONE], where
                assert reveal_response.status_code == 409, where
                assert "API_KEY has no stored value any more" in reveal_response.text, f"a clear message: {where}"
            else:  # it read the secret already deleted: nothing to reveal
                assert reveal_response.status_code == 404, where
                assert "API_KEY" in reveal_response.text, f"a clear message: {where}"
        assert await get_secret(ds, "API_KEY") is None, where
    print("reveal statuses over the rounds:", outcomes)
