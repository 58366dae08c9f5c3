"""Importing a .env block on the admin page: preview (values hidden), choose, store together."""

import re

import pytest

from datasette_secrets import get_secret
from secret_helpers import HX, MANAGER, OTHER, ROOT, audit_rows, flash_messages, follow, parse, secret_rows, store_value

TEXT = """# from the old server
API_KEY=sk-imported-value-0001
OTHER_KEY=unchanged-value
NOT_REGISTERED=whatever
export DATASETTE_SECRETS_ENV_KEY='quoted value'
"""
FORM = {"content-type": "application/x-www-form-urlencoded"}


def preview_rows(response):
    """{name: (store checkbox checked?, what happens)}"""
    out = {}
    for tr in parse(response).select("table.secrets-import-table tbody tr"):
        cells = {td["data-label"]: td for td in tr.find_all("td")}
        box = cells["Store"].find("input")
        out[cells["Name"].get_text(strip=True)] = (
            box is not None and box.has_attr("checked"),
            cells["What happens"].get_text(" ", strip=True),
        )
    return out


def token_of(response):
    return parse(response).select_one("input[name=token]")["value"]


async def confirm(ds, token, names, actor=ROOT, headers=HX):
    body = "&".join([f"token={token}"] + [f"store={name}" for name in names])
    return await ds.client.post(
        "/-/secrets/-/import/confirm", content=body, headers={**FORM, **headers}, actor=actor
    )


@pytest.mark.asyncio
async def test_preview_then_store_the_chosen_in_one_go(ds, monkeypatch):
    await store_value(ds, "OTHER_KEY", "unchanged-value")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=ROOT, headers=HX)
    assert response.status_code == 200
    assert parse(response).find("html") is None
    rows = preview_rows(response)
    assert rows["API_KEY"] == (True, "New: no value is stored yet")
    assert rows["OTHER_KEY"] == (False, "Unchanged: the same as version 1, not stored again")
    assert rows["NOT_REGISTERED"] == (False, "Unknown: no installed plugin registers it, not stored")
    assert rows["ENV_KEY"][0] is True
    assert "Shadowed: DATASETTE_SECRETS_ENV_KEY is set and takes precedence" in rows["ENV_KEY"][1]
    for value in ("sk-imported-value-0001", "unchanged-value", "quoted value", "whatever"):
        assert value not in response.text, "the preview never holds a value"

    before = len(await secret_rows(ds))
    response = await confirm(ds, token_of(response), ["API_KEY"])
    assert response.status_code == 200
    assert parse(response).find("hx-partial").get_text() == "Stored 1 secret: API_KEY (version 1)."
    assert len(await secret_rows(ds)) == before + 1, "only the chosen one"
    assert await get_secret(ds, "API_KEY") == "sk-imported-value-0001"
    assert (await audit_rows(ds))[-1]["detail"] == "imported from a .env file"


@pytest.mark.asyncio
async def test_a_preview_is_used_once_and_only_by_whoever_made_it(ds):
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=ROOT, headers=HX)
    token = token_of(response)
    refused = await confirm(ds, token, ["API_KEY"], actor=MANAGER)
    assert refused.status_code == 409 and "paste the .env text again" in refused.text
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=ROOT, headers=HX)
    token = token_of(response)
    assert (await confirm(ds, token, ["API_KEY"])).status_code == 200
    assert (await confirm(ds, token, ["API_KEY"])).status_code == 409
    assert len(await secret_rows(ds, "API_KEY")) == 1


@pytest.mark.asyncio
async def test_without_javascript(ds):
    page = await ds.client.get("/-/secrets/-/import", actor=ROOT)
    assert page.status_code == 200 and parse(page).find("textarea", attrs={"name": "dotenv"}) is not None
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=ROOT)
    assert response.status_code == 200 and parse(response).find("html") is not None
    assert "sk-imported-value-0001" not in response.text
    stored = await confirm(ds, token_of(response), ["API_KEY", "OTHER_KEY"], headers={})
    assert stored.status_code == 302
    page = await follow(ds, stored)
    assert flash_messages(page) == ["Stored 2 secrets: API_KEY (version 1), OTHER_KEY (version 1)."]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "text,expected",
    [
        ("API_KEY='UNCLOSEDVALUE\n", r"line 1"),
        ("just words\n", r"line 1"),
        ("# only a comment\n", r"no NAME=value lines"),
    ],
)
async def test_a_bad_block_is_refused_with_line_numbers_and_stores_nothing(text, expected, ds):
    before = await secret_rows(ds)
    for headers in ({}, HX):
        response = await ds.client.post("/-/secrets/-/import", data={"dotenv": text}, actor=ROOT, headers=headers)
        assert response.status_code == 422
        assert re.search(expected, parse(response).select_one("#import-results").get_text())
        assert "UNCLOSEDVALUE" not in response.text
    assert await secret_rows(ds) == before


@pytest.mark.asyncio
async def test_only_managers_and_a_key(ds, example_plugin, make_datasette):
    for actor in (None, OTHER):
        assert (await ds.client.get("/-/secrets/-/import", actor=actor)).status_code == 403
        assert (await ds.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=actor)).status_code == 403
    no_key = make_datasette(key=None)
    assert (await no_key.client.post("/-/secrets/-/import", data={"dotenv": TEXT}, actor=ROOT)).status_code == 409
    index = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert index.find("a", string="Import a .env file")["href"] == "/-/secrets/-/import"


@pytest.mark.asyncio
async def test_with_no_key_the_setup_panel_comes_first_and_the_paste_is_off(example_plugin, make_datasette):
    no_key = make_datasette(key=None)
    page = parse(await no_key.client.get("/-/secrets/-/import", actor=ROOT))
    main = page.select_one("main")
    setup = main.select_one(".secrets-setup")
    textarea = main.find("textarea", attrs={"name": "dotenv"})
    assert setup is not None and setup.find("h2").get_text() == "Set up an encryption key"
    assert str(main).index("secrets-setup") < str(main).index("import-dotenv"), "the panel first"
    assert textarea.has_attr("disabled") and textarea["aria-describedby"] == "import-off"
    assert main.select_one("#import-off").get_text() == "Importing is off until values can be stored."
    assert main.select_one("input[type=submit][value=Preview]").has_attr("disabled")


@pytest.mark.asyncio
async def test_with_a_key_the_paste_is_on(ds):
    main = parse(await ds.client.get("/-/secrets/-/import", actor=ROOT)).select_one("main")
    assert main.select_one(".secrets-setup") is None and main.select_one("#import-off") is None
    assert not main.find("textarea", attrs={"name": "dotenv"}).has_attr("disabled")
    assert not main.select_one("input[type=submit][value=Preview]").has_attr("disabled")


@pytest.mark.asyncio
async def test_each_outcome_has_its_own_state_and_its_words_on_its_line(ds, monkeypatch):
    await store_value(ds, "OTHER_KEY", "unchanged-value")
    await store_value(ds, "API_KEY", "an-older-value")
    monkeypatch.setenv("DATASETTE_SECRETS_ENV_KEY", "from-the-environment")
    text = "API_KEY=sk-replacement\nOTHER_KEY=unchanged-value\nNOT_REGISTERED=whatever\nDATASETTE_SECRETS_ENV_KEY=\n"
    response = await ds.client.post("/-/secrets/-/import", data={"dotenv": text}, actor=ROOT, headers=HX)
    states = {}
    for tr in parse(response).select("table.secrets-import-table tbody tr"):
        name = tr.select_one("td[data-label=Name]").get_text(strip=True)
        states[name] = [c for c in tr["class"] if c.startswith("secrets-import-")]
        what = tr.select_one("td[data-label='What happens']")
        # Datasette's tables keep whitespace: no newline may push the words a line down.
        assert not what.decode_contents().startswith(("\n", " ")), what.decode_contents()[:40]
    assert states == {
        "API_KEY": ["secrets-import-changed"],
        "OTHER_KEY": ["secrets-import-unchanged"],
        "NOT_REGISTERED": ["secrets-import-unknown"],
        "ENV_KEY": ["secrets-import-empty", "secrets-import-shadowed"],
    }
    assert preview_rows(response)["API_KEY"] == (True, "Changed: a new version replaces version 1")
