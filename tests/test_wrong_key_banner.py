"""The wrong-key banner (issue 21): plain words first, the key ids inside a details
element; on the list and, with the paste disabled, on the import page."""

import pytest

from datasette_secrets.crypto import Key
from secret_helpers import ROOT, parse, store_value


@pytest.fixture
def internal(tmp_path):
    return str(tmp_path / "internal.db")


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/-/secrets", "/-/secrets/-/import"])
async def test_the_banner_speaks_plainly_and_keeps_the_key_ids_folded(
    example_plugin, make_datasette, internal, key, other_key, path
):
    before = make_datasette(key=other_key, internal=internal)
    await before.invoke_startup()
    await store_value(before, "API_KEY", "a-value-under-the-other-key")
    ds = make_datasette(key=key, internal=internal)
    await ds.invoke_startup()
    page = await ds.client.get(path, actor=ROOT)
    assert page.status_code == 200
    banner = parse(page).select_one("main .secrets-wrong-key[role=alert]")
    assert banner.find("h2").get_text() == "The encryption key looks wrong"
    details = banner.find("details")
    assert details.find("summary").get_text() == "Which keys"
    assert not details.has_attr("open")
    # The ids only inside the details; the words outside them name no key id.
    outside = banner.get_text(" ", strip=True).replace(details.get_text(" ", strip=True), "")
    assert "None of the stored values can be read with the key this server is configured with" in outside
    assert Key(other_key).id not in outside and Key(key).id not in outside and "key id" not in outside
    assert Key(other_key).id in details.get_text() and Key(key).id in details.get_text()
    assert key not in page.text and other_key not in page.text
    if path.endswith("import"):
        main = parse(page).select_one("main")
        assert main.find("textarea", attrs={"name": "dotenv"}).has_attr("disabled")
        assert str(main).index("secrets-wrong-key") < str(main).index("import-dotenv")
