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
from secret_helpers import HX, ROOT, insert_row, parse, row_of, secrets_plugin, store_value

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


# A value set by the environment (a variable, or a file it names)


@pytest_asyncio.fixture
async def outside(register_plugin, make_datasette, monkeypatch, tmp_path):
    """ENV_ONLY (its variable set, nothing stored), FILED (a file), SHADOWED (its
    variable set over a stored value)."""
    register_plugin(
        secrets_plugin(*(Secret(name, f"{name} for the tests") for name in ("ENV_ONLY", "FILED", "SHADOWED"))),
        "outside-plugin",
    )
    mounted = tmp_path / "filed"
    mounted.write_text("from-a-file\n")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_ONLY", "from-the-environment")
    monkeypatch.setenv("DATASETTE_SECRETS_FILED_FILE", str(mounted))
    monkeypatch.setenv("DATASETTE_SECRETS_SHADOWED", "from-the-environment")
    ds = make_datasette()
    await ds.invoke_startup()
    await store_value(ds, "SHADOWED", "stored-under-the-variable")
    return ds


@pytest.mark.asyncio
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
async def test_the_fallback_editor_says_what_a_fallback_is(outside, headers):
    response = await outside.client.get("/-/secrets/ENV_ONLY", actor=ROOT, headers=headers)
    assert response.status_code == 200
    form = parse(response).select_one("form.secret-form")
    note = form.select_one("p.secret-shadowed[role=note]").get_text(" ", strip=True)
    assert note.endswith(
        "What you store here is a fallback: plugins get it once DATASETTE_SECRETS_ENV_ONLY is unset."
    )
    if headers:
        assert form["aria-label"] == "Store a fallback value for ENV_ONLY"
    else:
        assert parse(response).find("h1").get_text() == "Store a fallback value for ENV_ONLY"
    assert "from-the-environment" not in response.text


@pytest.mark.asyncio
async def test_a_stored_fallback_is_used_once_the_variable_is_unset(outside, monkeypatch):
    from datasette_secrets import get_secret

    response = await outside.client.post("/-/secrets/ENV_ONLY", actor=ROOT, data={"secret": "the-fallback", "note": ""})
    assert response.status_code == 302
    assert await get_secret(outside, "ENV_ONLY") == "from-the-environment"
    monkeypatch.delenv("DATASETTE_SECRETS_ENV_ONLY")
    assert await get_secret(outside, "ENV_ONLY") == "the-fallback"
    # Back on the list it is an ordinary stored value, with Edit as its main action.
    row = row_of(parse(await outside.client.get("/-/secrets", actor=ROOT)), "ENV_ONLY")
    assert [a["aria-label"] for a in row.select(".secret-primary")] == ["Edit ENV_ONLY"]
