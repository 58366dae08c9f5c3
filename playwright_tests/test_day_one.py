"""The first visit: from Datasette's menu to a stored secret in the list."""

import re

from playwright.sync_api import expect

from helpers import (
    MASK,
    UTC_TITLE,
    assert_no_page_load,
    edit_button,
    feedback,
    mark,
    nav_menu_link,
    note_cell,
    reveal_button,
    row,
    save,
    open_edit,
    sign_in,
    snap,
    status,
    value_cell,
    version_cell,
)


def test_menu_to_manage_secrets_then_set_one(page, context, server):
    sign_in(context, server, "root")
    page.goto(server.url + "/")
    page.locator("details.nav-menu summary").click()
    nav_menu_link(page, "Manage secrets").click()

    expect(page).to_have_url(server.path("/-/secrets"))
    expect(page.get_by_role("heading", level=1, name="Secrets")).to_be_visible()
    page.wait_for_load_state("load")
    mark(page)
    expect(value_cell(page, "ALPHA_API_KEY")).to_have_text("Not set")
    expect(edit_button(page, "ALPHA_API_KEY")).to_have_accessible_name("Set ALPHA_API_KEY")
    snap(page, "default")

    open_edit(page, "ALPHA_API_KEY")
    save(page, "ALPHA_API_KEY", "alpha-day-one-key-7Q2Z", "Team account")

    expect(status(page)).to_have_text("Saved ALPHA_API_KEY: version 1.")
    expect(feedback(page, "ALPHA_API_KEY")).to_have_text("Saved ALPHA_API_KEY: version 1.")
    alpha = row(page, "ALPHA_API_KEY")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "7Q2Z")
    expect(value_cell(page, "ALPHA_API_KEY")).not_to_contain_text("alpha-day-one")
    expect(reveal_button(page, "ALPHA_API_KEY")).to_be_visible()
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("Team account")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    updated = alpha.locator("td.secret-updated")
    expect(updated).to_have_text("v1 · just now by root")
    expect(updated.locator("time")).to_have_attribute("title", UTC_TITLE)
    expect(alpha.get_by_role("link", name="Edit ALPHA_API_KEY")).to_be_visible()
    expect(alpha.get_by_role("button", name="History of ALPHA_API_KEY")).to_be_visible()
    expect(alpha.get_by_role("button", name="Delete ALPHA_API_KEY")).to_be_visible()
    assert_no_page_load(page)

    # Still there after a real reload; the message was for once.
    page.reload()
    expect(feedback(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(status(page)).to_be_empty()
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "7Q2Z")


def test_menu_has_no_link_without_manage_permission(page, context, server):
    sign_in(context, server, "visitor")
    page.goto(server.url + "/")
    page.locator("details.nav-menu summary").click()
    expect(page.locator("details.nav-menu")).to_have_attribute("open", "")
    expect(nav_menu_link(page, "Manage secrets")).to_have_count(0)
    response = page.goto(server.path("/-/secrets"))
    assert response.status == 403
    expect(page.locator("body")).not_to_contain_text(re.compile("ALPHA_API_KEY"))
