"""Every change works as a plain form with JavaScript switched off."""

import re

import pytest
from playwright.sync_api import expect

from helpers import MASK, feedback, row, seed, sign_in, snap, status, value_cell, version_cell


@pytest.fixture
def nojs(new_context, server):
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    return page


def expect_message(page, name, text):
    """A change's result, back on the list: at its row and in the page's notice."""
    expect(feedback(page, name)).to_have_text(text)
    expect(status(page)).to_have_text(text)


def test_set_and_edit_without_javascript(nojs, server):
    page = nojs
    row(page, "ALPHA_API_KEY").get_by_role("link", name="Set ALPHA_API_KEY").click()
    expect(page).to_have_url(re.compile(r"/-/secrets/ALPHA_API_KEY\??$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set ALPHA_API_KEY")
    expect(page.get_by_role("link", name="Get an Alpha key (opens in a new tab)")).to_be_visible()
    page.get_by_label("Value", exact=True).fill("alpha-no-js-value-NOJS")
    page.get_by_label("Note").fill("set without JS")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(server.path("/-/secrets#secret-ALPHA_API_KEY"))
    expect_message(page, "ALPHA_API_KEY", "Saved ALPHA_API_KEY: version 1.")
    expect(feedback(page, "BETA_TOKEN")).to_have_count(0)  # only at the row that changed
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "NOJS")
    snap(page, "no-js")

    row(page, "ALPHA_API_KEY").get_by_role("link", name="Edit ALPHA_API_KEY").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit ALPHA_API_KEY")
    new_value = page.get_by_label("New value")
    expect(new_value).to_have_attribute("type", "password")
    expect(page.get_by_label("Note")).to_have_value("set without JS")
    new_value.fill("alpha-no-js-second-TWO2")
    page.get_by_role("button", name="Save").click()
    expect_message(page, "ALPHA_API_KEY", "Saved ALPHA_API_KEY: version 2.")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "TWO2")

    # The message shows once.
    page.reload()
    expect(feedback(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(status(page)).to_be_empty()


def test_validation_error_without_javascript(nojs, server):
    page = nojs
    page.goto(server.path("/-/secrets/BETA_TOKEN"))
    page.get_by_label("Note").fill("kept")
    with page.expect_response(lambda r: r.request.method == "POST") as response_info:
        page.get_by_role("button", name="Save").click()
    assert response_info.value.status == 422
    expect(page).to_have_url(server.path("/-/secrets/BETA_TOKEN"))
    expect(page.locator(".secret-field-error")).to_have_text(re.compile(r"^Enter a value"))
    expect(page.get_by_label("Value", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Note")).to_have_value("kept")


def test_cancel_without_javascript(nojs, server):
    page = nojs
    row(page, "BETA_TOKEN").get_by_role("link", name="Set BETA_TOKEN").click()
    page.get_by_label("Value", exact=True).fill("not-saved")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(server.path("/-/secrets#secret-BETA_TOKEN"))
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Not set")


def test_reveal_history_delete_restore_without_javascript(nojs, server):
    page = nojs
    seed(page.context, server, "BETA_TOKEN", "beta-no-js-secret", "first")
    page.reload()

    row(page, "BETA_TOKEN").get_by_role("button", name="Reveal BETA_TOKEN").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("BETA_TOKEN")
    expect(page.locator("code#revealed-BETA_TOKEN")).to_have_text("beta-no-js-secret")
    # Copying needs JavaScript: this page offers no Copy button that cannot work.
    expect(page.get_by_role("button", name=re.compile("Copy"))).to_have_count(0)
    page.get_by_role("link", name="Hide and go back to the list").click()
    expect(value_cell(page, "BETA_TOKEN")).not_to_contain_text("beta-no-js-secret")

    row(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(page).to_have_url(re.compile(r"/-/secrets/BETA_TOKEN/delete\??$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete BETA_TOKEN?")
    page.get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(feedback(page, "BETA_TOKEN")).to_contain_text("Deleted BETA_TOKEN.")
    expect(status(page)).to_have_text("Deleted BETA_TOKEN.")
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")

    # Undo, from the message at the row.
    feedback(page, "BETA_TOKEN").get_by_role("button", name="Undo BETA_TOKEN").click()
    expect_message(page, "BETA_TOKEN", "Restored BETA_TOKEN.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("2")

    # Delete again, and put it back with the deleted row's Restore.
    row(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    page.get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")
    row(page, "BETA_TOKEN").locator("td.secret-actions").get_by_role("button", name="Restore BETA_TOKEN").click()
    expect_message(page, "BETA_TOKEN", "Restored BETA_TOKEN.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("3")

    # An old version from the history: a page asks first.
    row(page, "BETA_TOKEN").get_by_role("button", name="History of BETA_TOKEN").click()
    expect(page).to_have_url(re.compile(r"/-/secrets/BETA_TOKEN/history\??$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("History of BETA_TOKEN")
    table = page.get_by_role("table", name="Versions of BETA_TOKEN")
    expect(page.get_by_role("heading", name="What happened")).to_be_visible()
    table.get_by_role("button", name="Restore version 1").click()
    expect(page).to_have_url(server.path("/-/secrets/BETA_TOKEN/restore?version=1"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Restore version 1 of BETA_TOKEN?")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(server.path("/-/secrets/BETA_TOKEN/history"))
    expect(table.get_by_role("rowheader").first).to_have_text("3 current")  # nothing changed
    page.get_by_role("table", name="Versions of BETA_TOKEN").get_by_role("button", name="Restore version 1").click()
    page.get_by_role("button", name="Restore version 1").click()
    expect_message(page, "BETA_TOKEN", "Restored BETA_TOKEN version 1 as version 4.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("4")
