"""Every change works as a plain form with JavaScript switched off."""

import re

import pytest
from playwright.sync_api import expect

from helpers import MASK, row, seed, sign_in, snap, value_cell, version_cell


@pytest.fixture
def nojs(new_context, server):
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    return page


def flash(page):
    return page.locator(".message-info")


def test_set_and_edit_without_javascript(nojs, server):
    page = nojs
    row(page, "ALPHA_API_KEY").get_by_role("link", name="Set ALPHA_API_KEY").click()
    expect(page).to_have_url(server.path("/-/secrets/ALPHA_API_KEY"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set ALPHA_API_KEY")
    expect(page.get_by_role("link", name="Get an Alpha key (opens in a new tab)")).to_be_visible()
    page.get_by_label("Value", exact=True).fill("alpha-no-js-value-NOJS")
    page.get_by_label("Note").fill("set without JS")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(server.path("/-/secrets#secret-ALPHA_API_KEY"))
    expect(flash(page)).to_have_text("Saved ALPHA_API_KEY: version 1.")
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
    expect(flash(page)).to_have_text("Saved ALPHA_API_KEY: version 2.")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "TWO2")

    # The flash message shows once.
    page.reload()
    expect(flash(page)).to_have_count(0)


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
    page.get_by_role("link", name="Hide and go back to the list").click()
    expect(value_cell(page, "BETA_TOKEN")).not_to_contain_text("beta-no-js-secret")

    row(page, "BETA_TOKEN").get_by_role("link", name="Delete BETA_TOKEN").click()
    expect(page).to_have_url(server.path("/-/secrets/BETA_TOKEN/delete"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete BETA_TOKEN?")
    page.get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(flash(page)).to_have_text("Deleted BETA_TOKEN.")
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")

    row(page, "BETA_TOKEN").get_by_role("link", name="History of BETA_TOKEN").click()
    expect(page).to_have_url(server.path("/-/secrets/BETA_TOKEN/history"))
    table = page.get_by_role("table", name="History of BETA_TOKEN")
    table.get_by_role("button", name="Restore version 1").click()
    expect(flash(page)).to_have_text("Restored BETA_TOKEN version 1 as version 2.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("2")
