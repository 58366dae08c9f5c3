"""Reveals are rate limited per actor; over the limit, a 429 and nothing revealed."""

import pytest

from secret_helpers import HX, audit_rows, store_value

PERMISSIONS = {"manage-secrets": {"id": ["root", "alice"]}, "reveal-secrets": {"id": ["root", "alice"]}}
VALUE = "rate-limited-value-42"


@pytest.mark.asyncio
async def test_over_the_limit_is_a_429_with_nothing_revealed(example_plugin, make_datasette, clock):
    ds = make_datasette(permissions=PERMISSIONS, settings={"reveals_per_minute": 3})
    await store_value(ds, "API_KEY", VALUE)
    for _ in range(3):
        assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor={"id": "root"})).status_code == 200
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/API_KEY/reveal", actor={"id": "root"}, headers=headers)
        assert response.status_code == 429
        assert VALUE not in response.text
        assert "Too many reveals: at most 3 a minute" in response.text
    assert response.headers["HX-Retarget"] == "#secrets-status", "shown in the status region"
    assert [a["action"] for a in await audit_rows(ds)].count("reveal") == 3

    # Another actor has a limit of their own.
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor={"id": "alice"})).status_code == 200
    # A minute later root may reveal again.
    clock.now += 61
    assert (await ds.client.post("/-/secrets/API_KEY/reveal", actor={"id": "root"})).status_code == 200


@pytest.mark.asyncio
async def test_default_is_twenty_a_minute(example_plugin, make_datasette, clock):
    # the clock fixture: a minute that cannot pass while the test runs
    ds = make_datasette(permissions=PERMISSIONS)
    await store_value(ds, "API_KEY", VALUE)
    statuses = [
        (await ds.client.post("/-/secrets/API_KEY/reveal", actor={"id": "root"})).status_code for _ in range(21)
    ]
    assert statuses == [200] * 20 + [429]


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", [0, -1, "many", True, 2.5])
async def test_a_bad_limit_stops_startup(bad, example_plugin, make_datasette):
    from datasette.utils import StartupError

    ds = make_datasette(settings={"reveals_per_minute": bad})
    with pytest.raises(StartupError) as info:
        await ds.invoke_startup()
    assert "reveals_per_minute" in str(info.value)
