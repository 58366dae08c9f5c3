"""History, rolling back, deleting and restoring."""

import re

from playwright.sync_api import expect

from helpers import (
    MASK,
    assert_no_page_load,
    edit_link,
    note_cell,
    open_history,
    open_secrets,
    reveal,
    reveal_button,
    row,
    seed,
    snap,
    status,
    value_cell,
    version_cell,
)


def history_rows(table):
    return table.locator("tbody tr")


def test_history_and_roll_back(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-first-value-1111", "first")
    seed(context, server, "ALPHA_API_KEY", "alpha-second-value-2222", "second")
    open_secrets(page, server)
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")

    secret = row(page, "ALPHA_API_KEY")
    history_link = secret.get_by_role("link", name="History of ALPHA_API_KEY")
    expect(history_link).to_have_attribute("aria-expanded", "false")
    table = open_history(page, "ALPHA_API_KEY")
    hide_link = secret.get_by_role("link", name="Hide history of ALPHA_API_KEY")
    expect(hide_link).to_have_attribute("aria-expanded", "true")
    expect(hide_link).to_be_focused()
    for header in ["Version", "Stored", "Note", "Key id", "Status"]:
        expect(table.get_by_role("columnheader", name=header)).to_be_visible()
    rows = history_rows(table)
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("2")
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("second")
    expect(rows.nth(0).locator("td").nth(4)).to_have_text("Current")
    expect(rows.nth(0).get_by_role("button")).to_have_count(0)
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("1")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("just now by root")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("first")
    expect(table.locator("tbody td code")).to_have_count(2)  # the key id of each version
    expect(table).not_to_contain_text("alpha-first-value")
    snap(page, "history")
    assert_no_page_load(page)

    table.get_by_role("button", name="Roll back to version 1").click()
    expect(status(page)).to_have_text("Restored ALPHA_API_KEY version 1 as version 3.")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("3")
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("first")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "1111")
    # The history stays open and shows the new version.
    table = row(page, "ALPHA_API_KEY").get_by_role("table", name="History of ALPHA_API_KEY")
    expect(history_rows(table)).to_have_count(3)
    expect(history_rows(table).nth(0).locator("td").nth(4)).to_have_text("Current")
    expect(table.get_by_role("button", name="Roll back to version 2")).to_be_visible()
    expect(table.get_by_role("button", name="Roll back to version 1")).to_be_visible()
    expect(table.get_by_role("button", name="Roll back to version 3")).to_have_count(0)
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text("alpha-first-value-1111")
    assert_no_page_load(page)

    row(page, "ALPHA_API_KEY").get_by_role("link", name="Hide history of ALPHA_API_KEY").click()
    expect(row(page, "ALPHA_API_KEY").get_by_role("table")).to_have_count(0)
    expect(
        row(page, "ALPHA_API_KEY").get_by_role("link", name="History of ALPHA_API_KEY")
    ).to_have_attribute("aria-expanded", "false")
    assert_no_page_load(page)


def test_never_set_secret_has_no_history_or_delete(root_page):
    secret = row(root_page, "GAMMA_WEBHOOK_SECRET")
    expect(secret.get_by_role("link", name="Set GAMMA_WEBHOOK_SECRET")).to_be_visible()
    expect(secret.get_by_role("link", name=re.compile("History"))).to_have_count(0)
    expect(secret.get_by_role("link", name=re.compile("Delete"))).to_have_count(0)
    expect(secret.get_by_role("button")).to_have_count(0)


def test_delete_then_restore(root_page, context, server):
    page = root_page
    seed(context, server, "BETA_TOKEN", "beta-to-delete-and-back-4242", "deletable")
    open_secrets(page, server)
    secret = row(page, "BETA_TOKEN")

    # Cancel first: nothing changes.
    secret.get_by_role("link", name="Delete BETA_TOKEN").click()
    confirm = secret.locator("form.secret-confirm")
    expect(confirm).to_contain_text("Delete BETA_TOKEN?")
    expect(confirm.get_by_role("button", name="Delete BETA_TOKEN")).to_be_visible()
    cancel = confirm.get_by_role("link", name="Cancel")
    expect(cancel).to_be_focused()
    snap(page, "delete-confirm")
    assert_no_page_load(page)
    cancel.click()
    expect(secret.locator("form.secret-confirm")).to_have_count(0)
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("1")
    expect(reveal_button(page, "BETA_TOKEN")).to_be_visible()

    # Then delete.
    secret.get_by_role("link", name="Delete BETA_TOKEN").click()
    secret.locator("form.secret-confirm").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(status(page)).to_have_text("Deleted BETA_TOKEN.")
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("")
    expect(secret.locator("td.secret-updated")).to_have_text("Deleted just now by root")
    expect(edit_link(page, "BETA_TOKEN")).to_have_text("Set BETA_TOKEN")
    expect(edit_link(page, "BETA_TOKEN")).to_be_focused()
    expect(secret.get_by_role("link", name="Delete BETA_TOKEN")).to_have_count(0)
    expect(secret.get_by_role("button", name=re.compile("^Reveal"))).to_have_count(0)
    assert_no_page_load(page)

    # Restore from the history.
    table = open_history(page, "BETA_TOKEN")
    expect(history_rows(table)).to_have_count(1)
    expect(history_rows(table).nth(0).locator("td").nth(4)).to_have_text(
        "Deleted just now by root"
    )
    table.get_by_role("button", name="Restore version 1").click()
    expect(status(page)).to_have_text("Restored BETA_TOKEN version 1 as version 2.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("2")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("deletable")
    expect(value_cell(page, "BETA_TOKEN")).to_contain_text(MASK + "4242")
    expect(edit_link(page, "BETA_TOKEN")).to_have_text("Edit BETA_TOKEN")
    expect(reveal(page, "BETA_TOKEN")).to_have_text("beta-to-delete-and-back-4242")
    assert_no_page_load(page)

    # And it stays restored after a reload.
    page.reload()
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("2")
