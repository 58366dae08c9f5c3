"""History, restoring an old version (it asks first), deleting, Undo and Restore."""

import re

from playwright.sync_api import expect

from helpers import (
    MASK,
    assert_no_page_load,
    edit_button,
    feedback,
    history_button,
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
    versions_table,
)


def history_rows(table):
    """One row a version (an open confirmation is a row of its own, not counted)."""
    return table.locator("tbody tr:not(.secret-open)")


def events(page, name):
    """The "What happened" list of the secret's open history, newest first."""
    return row(page, name).locator("ol.secret-events li")


def test_history_and_restore_an_old_version(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-first-value-1111", "first")
    seed(context, server, "ALPHA_API_KEY", "alpha-second-value-2222", "second")
    open_secrets(page, server)
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")

    secret = row(page, "ALPHA_API_KEY")
    history = history_button(page, "ALPHA_API_KEY")
    expect(history).to_have_attribute("aria-expanded", "false")
    table = open_history(page, "ALPHA_API_KEY")
    # A toggle: it stays where it was, pressed.
    expect(history).to_have_attribute("aria-expanded", "true")
    # Opening the history brings focus to its heading (issue 16).
    expect(row(page, "ALPHA_API_KEY").get_by_role("heading", name="History of ALPHA_API_KEY")).to_be_focused()
    for header in ["Version", "Stored", "Note"]:
        expect(table.get_by_role("columnheader", name=header)).to_be_visible()
    # Both versions are under the one key: no key id column (it shows only when keys differ).
    expect(table.get_by_role("columnheader", name="Key id")).to_have_count(0)
    rows = history_rows(table)
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("rowheader")).to_have_text("2 current")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("second")
    expect(rows.nth(0).get_by_role("button")).to_have_count(0)
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("1")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("just now by root")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("first")
    expect(table.locator("tbody td code")).to_have_count(0)
    expect(table).not_to_contain_text("alpha-first-value")
    expect(secret.get_by_role("heading", name="What happened")).to_be_visible()
    expect(events(page, "ALPHA_API_KEY")).to_have_text(
        ["just now by root: stored version 2", "just now by root: stored version 1"]
    )
    expect(secret.get_by_role("link", name="Audit log of ALPHA_API_KEY")).to_have_attribute(
        "href", "/-/secrets/-/audit?secret=ALPHA_API_KEY"
    )
    snap(page, "history")
    assert_no_page_load(page)

    # Restoring asks first, under that version; Cancel changes nothing.
    table.get_by_role("button", name="Restore version 1").click()
    confirm = table.locator("form.secret-confirm")
    expect(confirm).to_contain_text(
        "Restore version 1 of ALPHA_API_KEY? Its value and note are stored again as version 3,"
        " the one plugins get; version 2 stays in the history."
    )
    yes = confirm.get_by_role("button", name="Restore version 1")
    expect(yes).to_be_focused()
    confirm.get_by_role("button", name="Cancel").click()
    expect(table.locator("form.secret-confirm")).to_have_count(0)
    expect(table.get_by_role("button", name="Restore version 1")).to_be_focused()
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")

    # Escape cancels too.
    table.get_by_role("button", name="Restore version 1").click()
    expect(yes).to_be_focused()
    page.keyboard.press("Escape")
    expect(table.locator("form.secret-confirm")).to_have_count(0)
    expect(table.get_by_role("button", name="Restore version 1")).to_be_focused()
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")

    # Then confirm.
    table.get_by_role("button", name="Restore version 1").click()
    yes.click()
    expect(status(page)).to_have_text("Restored ALPHA_API_KEY version 1 as version 3.")
    expect(feedback(page, "ALPHA_API_KEY")).to_have_text("Restored ALPHA_API_KEY version 1 as version 3.")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("3")
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("first")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "1111")
    # The history stays open and shows the new version and what happened.
    table = versions_table(page, "ALPHA_API_KEY")
    expect(history_rows(table)).to_have_count(3)
    expect(history_rows(table).nth(0).get_by_role("rowheader")).to_have_text("3 current")
    expect(table.get_by_role("button", name="Restore version 2")).to_be_visible()
    expect(table.get_by_role("button", name="Restore version 1")).to_be_visible()
    expect(table.get_by_role("button", name="Restore version 3")).to_have_count(0)
    expect(events(page, "ALPHA_API_KEY").first).to_have_text(
        "just now by root: stored version 3, restored from version 1"
    )
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text("alpha-first-value-1111")
    assert_no_page_load(page)

    # Pressing History again closes it.
    history_button(page, "ALPHA_API_KEY").click()
    expect(row(page, "ALPHA_API_KEY").get_by_role("table")).to_have_count(0)
    expect(history_button(page, "ALPHA_API_KEY")).to_have_attribute("aria-expanded", "false")
    expect(history_button(page, "ALPHA_API_KEY")).to_be_focused()
    assert_no_page_load(page)


def test_never_set_secret_has_no_history_or_delete(root_page):
    secret = row(root_page, "GAMMA_WEBHOOK_SECRET")
    expect(secret.get_by_role("link", name="Set GAMMA_WEBHOOK_SECRET")).to_be_visible()
    expect(secret.get_by_role("button", name=re.compile("History"))).to_have_count(0)
    expect(secret.get_by_role("button", name=re.compile("Delete"))).to_have_count(0)
    # Nothing to reveal or test either: Set is all it offers.
    expect(secret.get_by_role("button")).to_have_count(0)
    expect(edit_button(root_page, "GAMMA_WEBHOOK_SECRET")).to_have_text("Set")  # a link to the editor (issue 16)


def test_delete_undo_and_restore(root_page, context, server):
    page = root_page
    seed(context, server, "BETA_TOKEN", "beta-to-delete-and-back-4242", "deletable")
    open_secrets(page, server)
    secret = row(page, "BETA_TOKEN")
    delete = secret.get_by_role("button", name="Delete BETA_TOKEN")

    # Cancel first: nothing changes.
    delete.click()
    confirm = secret.locator("form.secret-confirm")
    expect(confirm).to_contain_text(
        "Delete BETA_TOKEN? Plugins get no value until it is set again; Undo or Restore brings it back."
    )
    yes = confirm.get_by_role("button", name="Delete BETA_TOKEN")
    expect(yes).to_be_focused()
    # A row spanning the table, under the secret's description.
    expect(secret.locator("tr.secret-open td[colspan='6']")).to_contain_text("Delete BETA_TOKEN?")
    snap(page, "delete-confirm")
    assert_no_page_load(page)
    confirm.get_by_role("button", name="Cancel").click()
    expect(secret.locator("form.secret-confirm")).to_have_count(0)
    expect(delete).to_be_focused()
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("1")
    expect(reveal_button(page, "BETA_TOKEN")).to_be_visible()

    # Escape cancels too.
    delete.click()
    expect(yes).to_be_focused()
    page.keyboard.press("Escape")
    expect(secret.locator("form.secret-confirm")).to_have_count(0)
    expect(delete).to_be_focused()
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("1")

    # Then delete.
    delete.click()
    yes.click()
    expect(status(page)).to_have_text("Deleted BETA_TOKEN.")
    expect(feedback(page, "BETA_TOKEN")).to_have_text(re.compile(r"^\s*Deleted BETA_TOKEN\.\s*Undo\s*$"))
    undo = feedback(page, "BETA_TOKEN").get_by_role("button", name="Undo BETA_TOKEN")
    expect(undo).to_be_focused()
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("")
    expect(secret.locator("td.secret-updated")).to_have_text("Deleted just now by root")
    expect(secret.locator("td.secret-actions").get_by_role("button", name="Restore BETA_TOKEN")).to_be_visible()
    expect(edit_button(page, "BETA_TOKEN")).to_have_count(0)
    expect(delete).to_have_count(0)
    expect(secret.get_by_role("button", name=re.compile("^Reveal"))).to_have_count(0)
    assert_no_page_load(page)

    # Undo puts the newest version back.
    undo.click()
    # Said as what came back, not version arithmetic (issue 16).
    expect(status(page)).to_have_text("Restored BETA_TOKEN.")
    expect(feedback(page, "BETA_TOKEN")).to_have_text("Restored BETA_TOKEN.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("2")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("deletable")
    expect(value_cell(page, "BETA_TOKEN")).to_contain_text(MASK + "4242")
    expect(edit_button(page, "BETA_TOKEN")).to_have_accessible_name("Edit BETA_TOKEN")
    expect(secret.get_by_role("button", name="Undo BETA_TOKEN")).to_have_count(0)
    assert_no_page_load(page)

    # Delete again, and this time the deleted row's Restore button.
    delete.click()
    yes.click()
    expect(status(page)).to_have_text("Deleted BETA_TOKEN.")
    secret.locator("td.secret-actions").get_by_role("button", name="Restore BETA_TOKEN").click()
    expect(status(page)).to_have_text("Restored BETA_TOKEN.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("3")
    expect(reveal(page, "BETA_TOKEN")).to_have_text("beta-to-delete-and-back-4242")

    # The history tells it all, newest first.
    open_history(page, "BETA_TOKEN")
    expect(events(page, "BETA_TOKEN")).to_have_text(
        [
            "just now by root: revealed version 3",
            "just now by root: stored version 3, restored from version 2",
            "just now by root: deleted it",
            "just now by root: stored version 2, restored from version 1",
            "just now by root: deleted it",
            "just now by root: stored version 1",
        ]
    )
    assert_no_page_load(page)

    # And it stays restored after a reload.
    page.reload()
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("3")


def test_restore_a_deleted_secret_from_its_history(root_page, context, server):
    page = root_page
    seed(context, server, "BETA_TOKEN", "beta-first-value-1111", "one")
    seed(context, server, "BETA_TOKEN", "beta-second-value-2222", "two")
    open_secrets(page, server)
    row(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    row(page, "BETA_TOKEN").locator("form.secret-confirm").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(value_cell(page, "BETA_TOKEN")).to_have_text("Deleted")

    table = open_history(page, "BETA_TOKEN")
    # No version is current while it is deleted: each can be restored.
    expect(history_rows(table)).to_have_count(2)
    expect(table.locator(".secret-badge")).to_have_count(0)
    expect(events(page, "BETA_TOKEN").first).to_have_text("just now by root: deleted it")
    table.get_by_role("button", name="Restore version 1").click()
    confirm = table.locator("form.secret-confirm")
    expect(confirm).to_contain_text(
        "Restore version 1 of BETA_TOKEN? Its value and note are stored again as version 3, the one plugins get."
    )
    confirm.get_by_role("button", name="Restore version 1").click()
    expect(status(page)).to_have_text("Restored BETA_TOKEN version 1 as version 3.")
    expect(feedback(page, "BETA_TOKEN")).to_have_text("Restored BETA_TOKEN version 1 as version 3.")
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("3")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("one")
    expect(value_cell(page, "BETA_TOKEN")).to_contain_text(MASK + "1111")
    expect(history_rows(versions_table(page, "BETA_TOKEN")).nth(0).get_by_role("rowheader")).to_have_text("3 current")
    assert_no_page_load(page)
