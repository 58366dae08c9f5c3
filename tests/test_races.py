"""Each change decides on what it finds inside its own write transaction.

A view loads a secret, then changes it; another request may change it in
between. Here the other request is made to win that race every time, by
calling the change with what the view had loaded before the other change.
"""

import pytest
from datasette.utils.asgi import BadRequest

from datasette_secrets import core, model
from secret_helpers import ROOT, audit_rows, secret_rows, store_value


async def loaded(ds, name):
    """What a view had loaded for ``name`` (state, entry), before anything else happens."""
    state = await core.ready(ds)
    return state, await model.entry(ds, state, name)


async def delete_elsewhere(ds, name):
    response = await ds.client.post(f"/-/secrets/{name}/delete", actor=ROOT)
    assert response.status_code == 302


def assert_conflict(info, *words):
    assert isinstance(info.value, BadRequest) and info.value.status == 409
    for word in words:
        assert word in str(info.value)


@pytest.mark.asyncio
async def test_note_change_that_lost_to_a_delete(ds):
    await store_value(ds, "API_KEY", "value", note="before")
    state, entry = await loaded(ds, "API_KEY")
    await delete_elsewhere(ds, "API_KEY")
    rows, audit = await secret_rows(ds), await audit_rows(ds)
    with pytest.raises(BadRequest) as info:
        await core.save(ds, state, entry, "", "after", ROOT)
    assert_conflict(info, "API_KEY", "deleted")
    assert await secret_rows(ds) == rows and await audit_rows(ds) == audit


@pytest.mark.asyncio
async def test_reveal_that_lost_to_a_delete(ds):
    await store_value(ds, "API_KEY", "value")
    state, entry = await loaded(ds, "API_KEY")
    await delete_elsewhere(ds, "API_KEY")
    audit = await audit_rows(ds)
    with pytest.raises(BadRequest) as info:
        await core.reveal(ds, state, entry.name, ROOT)
    assert_conflict(info, "API_KEY", "deleted")
    assert await audit_rows(ds) == audit, "nothing revealed, nothing audited"


@pytest.mark.asyncio
async def test_delete_that_lost_to_a_delete(ds):
    await store_value(ds, "API_KEY", "value")
    state, entry = await loaded(ds, "API_KEY")
    await delete_elsewhere(ds, "API_KEY")
    with pytest.raises(BadRequest) as info:
        await core.delete(ds, state, entry.name, ROOT)
    assert_conflict(info, "API_KEY", "already deleted")
    assert [row["action"] for row in await audit_rows(ds)].count("delete") == 1


@pytest.mark.asyncio
async def test_reveal_shows_the_version_it_revealed(ds):
    """A new version stored between loading and revealing: the reveal says which it showed."""
    await store_value(ds, "API_KEY", "first")
    state, entry = await loaded(ds, "API_KEY")
    await store_value(ds, "API_KEY", "second")
    version, value = await core.reveal(ds, state, entry.name, ROOT)
    assert (version, value) == (2, "second")
    assert [(r["action"], r["version"]) for r in await audit_rows(ds)][-1] == ("reveal", 2)
