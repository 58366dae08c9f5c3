"""The list offers no status link for a status no secret has (issue 21): its count
carries the class ``secrets-zero`` (the stylesheet hides such a link, unless it is the
status shown), on the page and in the counts a change made in place sends along, so a
link goes and comes back as a change moves its count to and from 0."""

import pytest

from secret_helpers import HX, ROOT, parse, store_value

VALUE = "a-value-for-the-status-links"


def zero_statuses(soup):
    """The statuses whose count is marked as 0, and the counts as they read, by span id."""
    spans = soup.select("nav.secrets-statuses span[id], hx-partial > span[id]")
    return (
        {span["id"] for span in spans if "secrets-zero" in (span.get("class") or [])},
        {span["id"]: span.get_text() for span in spans},
    )


@pytest.mark.asyncio
async def test_a_status_no_secret_has_is_marked_on_the_page_and_in_place(ds):
    page = parse(await ds.client.get("/-/secrets", actor=ROOT))
    zero, counts = zero_statuses(page)
    assert zero == {"n-set", "n-env", "n-deleted", "n-orphan"}
    assert counts["n-unset"] != "0" and "n-all" not in zero

    await store_value(ds, "API_KEY", VALUE)
    headers = {**HX, "HX-Current-URL": "http://localhost/-/secrets"}
    # A delete in place: Deleted rises from 0 to 1 and Set falls to 0, both in the counts it sends
    response = await ds.client.post("/-/secrets/API_KEY/delete", data={}, actor=ROOT, headers=headers)
    assert response.status_code == 200
    zero, counts = zero_statuses(parse(response))
    assert counts["n-deleted"] == "1" and "n-deleted" not in zero
    assert counts["n-set"] == "0" and "n-set" in zero
    # and a reload agrees
    assert zero_statuses(parse(await ds.client.get("/-/secrets", actor=ROOT)))[0] == {"n-set", "n-env", "n-orphan"}

    # Restored (Undo): Deleted falls back to 0
    response = await ds.client.post("/-/secrets/API_KEY/restore", data={"version": "1"}, actor=ROOT, headers=headers)
    zero, counts = zero_statuses(parse(response))
    assert counts["n-deleted"] == "0" and "n-deleted" in zero and "n-set" not in zero


@pytest.mark.asyncio
async def test_the_status_shown_keeps_its_link_at_0(ds):
    """?status=deleted with nothing deleted: the link is the current one (aria-current),
    which the stylesheet keeps in view, so the page says which status it shows."""
    page = parse(await ds.client.get("/-/secrets?status=deleted", actor=ROOT))
    current = page.select_one("nav.secrets-statuses a[aria-current]")
    assert current.get_text(strip=True) == "Deleted (0)"
    assert "secrets-zero" in current.select_one("span")["class"]
