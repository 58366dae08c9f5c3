"""A row says what state its secret is in, and offers only what that state allows
(issue 21): a value that cannot be read carries a chip and no Reveal, Copy or Test
(and a Test or reveal asked for anyway is refused in words, never a 500); a value
set by the environment has no filled main action, only a quiet "Store a fallback
value"; a due row's age is words with the exact time in a title; the version and
the last change share one "Updated" cell."""

import pytest
import pytest_asyncio

from datasette_secrets import Secret
from datasette_secrets.crypto import Key
from secret_helpers import HX, ROOT, insert_row, parse, secrets_plugin, store_value

def ok_check(datasette, value):
    return True, "fine"


@pytest_asyncio.fixture
async def states(register_plugin, make_datasette, key, other_key, monkeypatch):
    """GOOD (readable, with a check), FOREIGN (saved under a key this server does not
    have), DAMAGED (under this server's key, but another secret's ciphertext), SHADOWED
    (stored, and its variable set), PLAIN (not set)."""
    register_plugin(
        secrets_plugin(
            *(Secret(name, f"{name} for the tests", check=ok_check) for name in ("GOOD", "FOREIGN", "DAMAGED", "SHADOWED")),
            Secret("PLAIN", "Not set"),
        ),
        "row-states-plugin",
    )
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "GOOD", "good-value-0123456789")
    await store_value(ds, "SHADOWED", "stored-under-the-variable")
    await insert_row(ds, "FOREIGN", Key(other_key).encrypt("FOREIGN", 1, "foreign-value"), Key(other_key).id)
    await insert_row(ds, "DAMAGED", Key(key).encrypt("GOOD", 1, "moved-from-good"), Key(key).id)
    return ds


# A value that cannot be read


@pytest.mark.asyncio
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
@pytest.mark.parametrize("action,verb", [("test", "tested"), ("reveal", "revealed or copied"), ("copy", "revealed or copied")])
async def test_asking_to_read_an_unreadable_value_is_refused_in_words(states, headers, action, verb):
    response = await states.client.post(f"/-/secrets/FOREIGN/{action}", actor=ROOT, headers=headers)
    assert response.status_code == 409
    message = f"The stored value of FOREIGN cannot be read (saved with a different key), so it cannot be {verb}"
    assert message in response.text
    assert "foreign-value" not in response.text


@pytest.mark.asyncio
async def test_a_shadowed_value_is_tested_from_its_variable_even_when_the_stored_one_is_unreadable(
    register_plugin, make_datasette, other_key, monkeypatch
):
    register_plugin(secrets_plugin(Secret("SHADOWED", "x", check=ok_check)), "shadowed-plugin")
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await insert_row(ds, "SHADOWED", Key(other_key).encrypt("SHADOWED", 1, "old"), Key(other_key).id)
    response = await ds.client.post("/-/secrets/SHADOWED/test", actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert parse(response).select_one("tr.secret-feedback .secret-check-ok") is not None
