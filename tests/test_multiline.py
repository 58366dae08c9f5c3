"""Values of several lines: PEM private keys, JSON service-account files.

The edit form offers a multi-line field (a textarea, by ``?multiline=1``),
inner whitespace is kept exactly, line breaks are stored as LF, and the mask
and the reveal handle them.
"""

from collections import namedtuple

import pytest

from datasette_secrets import get_secret
from datasette_secrets.core import clean_value
from datasette_secrets.model import MASK
from secret_helpers import HX, MANAGER, ROOT, parse, row_of, secret_rows, store_value

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----"
)
SERVICE_ACCOUNT = (
    '{\n  "type": "service_account",\n\t"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n",\n'
    '  "client_email":  "robot@example.iam.gserviceaccount.com"\n}'
)

Case = namedtuple("Case", "description submitted stored")
WHITESPACE = [
    Case("a PEM key as typed", PEM, PEM),
    Case("a JSON file, tabs and runs of spaces inside", SERVICE_ACCOUNT, SERVICE_ACCOUNT),
    Case("a browser textarea's CRLF line breaks", PEM.replace("\n", "\r\n"), PEM),
    Case("a lone CR", "first\rsecond", "first\nsecond"),
    Case("mixed line breaks", "a\r\nb\nc\rd", "a\nb\nc\nd"),
    Case("pasted with a newline at the end", PEM + "\r\n", PEM),
    Case("whitespace at both ends", " \t\r\n" + PEM + "\n\n  ", PEM),
    Case("blank lines inside are kept", "line one\n\n\nline four", "line one\n\n\nline four"),
    Case("spaces at the ends of inner lines are kept", "a  \n  b", "a  \n  b"),
    Case("a single line is only stripped", "  sk-1234567890abcdef \n", "sk-1234567890abcdef"),
]


@pytest.mark.parametrize("case", WHITESPACE, ids=[case.description for case in WHITESPACE])
def test_clean_value(case):
    assert clean_value(case.submitted) == case.stored


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("case", WHITESPACE, ids=[case.description for case in WHITESPACE])
async def test_value_round_trips_through_the_form(case, htmx, ds):
    response = await ds.client.post(
        "/-/secrets/API_KEY",
        data={"secret": case.submitted, "note": "", "multiline": "1"},
        actor=ROOT,
        headers=HX if htmx else {},
    )
    assert response.status_code == (200 if htmx else 302), response.text
    assert await get_secret(ds, "API_KEY") == case.stored
    assert [row["version"] for row in await secret_rows(ds, "API_KEY")] == [1]


# The form


def value_field(soup):
    return soup.select_one("form.secret-form [name=secret]")


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_single_line_password_input_is_the_default(htmx, ds):
    soup = parse(await ds.client.get("/-/secrets/API_KEY", actor=ROOT, headers=HX if htmx else {}))
    field = value_field(soup)
    assert field.name == "input" and field["type"] == "password"
    assert soup.select_one("form.secret-form input[name=multiline]") is None
    # the switch never sends what was typed: with htmx a GET of the other shape
    # (a type=button, so not a submit of the edit form); without, its own GET form
    button = soup.find("button", string="Multi-line value")
    assert button.find_parent("form", class_="secret-form") is not None, "shown beside the field"
    if htmx:
        assert button["type"] == "button"
        assert button["hx-get"] == "/-/secrets/API_KEY?multiline=1"
    else:
        switch = soup.find("form", id=button["form"])
        assert switch.get("method", "get") == "get" and switch["action"] == "/-/secrets/API_KEY"
        assert [(i["name"], i["value"]) for i in switch.find_all("input")] == [("multiline", "1")]


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
async def test_multiline_form_has_a_textarea(htmx, ds):
    await store_value(ds, "API_KEY", PEM)
    response = await ds.client.get(
        "/-/secrets/API_KEY", params={"multiline": "1"}, actor=ROOT, headers=HX if htmx else {}
    )
    assert response.status_code == 200
    soup = parse(response)
    field = value_field(soup)
    assert field.name == "textarea"
    assert field.get_text() == "", "the stored value is never put in the form"
    assert PEM.splitlines()[1] not in response.text
    for attribute, value in {"spellcheck": "false", "autocomplete": "off", "autocapitalize": "off"}.items():
        assert field[attribute] == value
    assert field.has_attr("autofocus")
    label = soup.find("label", attrs={"for": field["id"]})
    assert label.get_text(strip=True) == "New value"
    # the rule for whitespace is said beside the field
    described = [soup.find(id=id_).get_text(" ", strip=True) for id_ in field["aria-describedby"].split()]
    assert any("kept exactly" in text for text in described)
    assert any("Leave blank" in text for text in described)
    # the form says it is multi-line, so an error sends back a textarea again
    assert soup.select_one("form.secret-form input[type=hidden][name=multiline]")["value"] == "1"
    # and the switch goes back to one line
    button = soup.find("button", string="Single-line value")
    if htmx:
        # the whole row, in edit mode, comes back (htmx morphs it in)
        assert soup.select_one("tbody#secret-API_KEY tr.secret-editing") is not None
        assert button["hx-get"] == "/-/secrets/API_KEY?multiline=0"
    else:
        assert soup.find("form", id=button["form"]).find_all("input") == []


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize(
    "form",
    [
        {"secret": PEM, "note": "n" * 201, "multiline": "1"},
        {"secret": PEM.replace("\n", "\r\n"), "note": "n" * 201},  # a line break is enough
        {"secret": "", "note": "first value missing", "multiline": "1"},
    ],
    ids=["note too long", "no flag, line breaks", "no value"],
)
async def test_validation_error_keeps_the_textarea_and_never_sends_the_value_back(form, htmx, ds):
    response = await ds.client.post(
        "/-/secrets/API_KEY", data=form, actor=ROOT, headers=HX if htmx else {}
    )
    assert response.status_code == 422
    field = value_field(parse(response))
    assert field.name == "textarea"
    assert field.get_text() == ""
    assert "PRIVATE KEY" not in response.text
    assert await secret_rows(ds) == []


# The mask


def value_cell_text(soup, name):
    return row_of(soup, name).find("td", class_="secret-value").get_text()


@pytest.mark.asyncio
@pytest.mark.parametrize("actor", [ROOT, MANAGER], ids=["may reveal", "may not reveal"])
async def test_mask_shows_nothing_about_lines_or_length(actor, ds):
    """The same cell for values of one line or many, short or long."""
    cells = set()
    for value in (PEM, SERVICE_ACCOUNT, "one\ntwo", "a\n" * 300 + "z", "short"):
        await store_value(ds, "API_KEY", value)
        soup = parse(await ds.client.get("/-/secrets", actor=actor))
        mask = row_of(soup, "API_KEY").select_one(".secret-mask")
        assert mask.select_one("[aria-hidden=true]").get_text() == MASK
        assert mask.get_text() == "Hidden value" + MASK
        cells.add(value_cell_text(soup, "API_KEY"))
    assert len(cells) == 1


@pytest.mark.asyncio
async def test_no_hint_for_a_multiline_value(ds):
    """Its last four characters are boilerplate and could show where a line ends."""
    await store_value(ds, "API_KEY", "x" * 20 + "\nabcd")
    soup = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert "abcd" not in value_cell_text(soup, "API_KEY")
    await store_value(ds, "API_KEY", "x" * 20 + "abcd")  # one line keeps its hint
    soup = parse(await ds.client.get("/-/secrets", actor=ROOT))
    assert "ending abcd" in value_cell_text(soup, "API_KEY")


# The reveal


@pytest.mark.asyncio
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("value", [PEM, SERVICE_ACCOUNT], ids=["PEM", "JSON"])
async def test_reveal_shows_the_value_with_its_line_breaks(value, htmx, ds):
    await store_value(ds, "API_KEY", value.replace("\n", "\r\n"))
    response = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX if htmx else {})
    assert response.status_code == 200
    revealed = parse(response).select_one("#revealed-API_KEY")
    assert revealed.get_text() == value, "exactly the value: what Copy copies"
    assert "secret-revealed-lines" in revealed["class"]
    copy = parse(response).find("button", attrs={"data-copy-from": "revealed-API_KEY"})
    # Copy needs JavaScript: the page without it has no Copy button that would do nothing.
    assert (copy is not None) == htmx


@pytest.mark.asyncio
async def test_one_line_reveal_is_unchanged(ds):
    await store_value(ds, "API_KEY", "one  line")
    response = await ds.client.post("/-/secrets/API_KEY/reveal", actor=ROOT, headers=HX)
    revealed = parse(response).select_one("#revealed-API_KEY")
    assert revealed.get_text() == "one  line"
    assert "secret-revealed-lines" not in revealed["class"]


@pytest.mark.asyncio
async def test_stylesheet_keeps_line_breaks_of_revealed_values(ds):
    css = (await ds.client.get("/-/static-plugins/datasette_secrets/secrets.css")).text
    rule = css[css.index(".secret-revealed-value {"):]
    assert "white-space: pre-wrap" in rule[: rule.index("}")]
