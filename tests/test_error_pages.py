"""A 4xx page under /-/secrets says what went wrong and offers a way back (issue 21);
htmx requests keep their fragments and JSON its JSON."""

import pytest

from secret_helpers import HX, OTHER, ROOT, parse


def way_back(response):
    """(label, href) of the page's way back."""
    link = parse(response).select_one("main .secrets-way-back a")
    return link.get_text(strip=True), link["href"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path,expected",
    [
        ("/-/secrets/NO_SUCH_SECRET/history", ("Back to the secrets", "/-/secrets")),
        ("/-/secrets/-/mine/NO_SUCH_SECRET/history", ("Back to My secrets", "/-/secrets/-/mine")),
    ],
)
async def test_a_404_page_offers_a_way_back(ds, path, expected):
    response = await ds.client.get(path, actor=ROOT)
    assert response.status_code == 404
    page = parse(response)
    assert page.select_one("main h1").get_text() == "Not found"
    assert page.select_one("main .secrets-error-message").get_text(strip=True)
    assert way_back(response) == expected


@pytest.mark.asyncio
async def test_a_403_page_offers_a_way_back_that_will_not_refuse_too(ds):
    # alice may do nothing with secrets: the list would refuse her as well, so home.
    response = await ds.client.get("/-/secrets/-/audit", actor=OTHER)
    assert response.status_code == 403
    page = parse(response)
    assert page.select_one("main h1").get_text() == "Not allowed"
    assert "manage-secrets" in page.select_one("main .secrets-error-message").get_text()
    assert way_back(response) == ("Back to the home page", "/")


@pytest.mark.asyncio
async def test_my_secrets_asks_a_signed_out_visitor_to_sign_in(ds):
    for path in ("/-/secrets/-/mine", "/-/secrets/-/mine/AI_KEY/history"):
        response = await ds.client.get(path)
        assert response.status_code == 403
        text = parse(response).select_one("main .secrets-error-message").get_text(strip=True)
        assert text == "Sign in to keep your own API keys"
        assert "permission" not in parse(response).select_one("main").get_text()
        assert parse(response).select_one("main h1").get_text() == "Sign in first"
        assert way_back(response) == ("Back to the home page", "/")
    # In place (htmx), the same words in the status region.
    response = await ds.client.post("/-/secrets/-/mine/AI_KEY/reveal", headers=HX)
    assert response.status_code == 403
    assert parse(response).get_text(strip=True) == "Sign in to keep your own API keys"


@pytest.mark.asyncio
async def test_htmx_and_json_keep_their_answers(ds):
    response = await ds.client.get("/-/secrets/NO_SUCH_SECRET/history", actor=ROOT, headers=HX)
    assert response.status_code == 404
    assert parse(response).find("html") is None and parse(response).select_one(".secrets-way-back") is None
    response = await ds.client.get("/-/secrets/-/audit.json", actor=OTHER)
    assert response.status_code == 403
    assert response.json()["ok"] is False
