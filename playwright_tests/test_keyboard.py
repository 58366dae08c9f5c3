"""The whole job with the keyboard alone: Tab, Shift+Tab, Enter, Escape and typing."""

from playwright.sync_api import expect

from helpers import (
    MASK,
    assert_no_page_load,
    edit_form,
    edit_button,
    mark,
    note_cell,
    note_input,
    press_until_focused,
    reveal_button,
    row,
    sign_in,
    status,
    value_cell,
    value_input,
    version_cell,
)

NAME = "GAMMA_WEBHOOK_SECRET"


def test_keyboard_only(page, context, server):
    sign_in(context, server, "root")
    page.goto(server.url + "/")
    keys = page.keyboard

    # Datasette's menu to the secrets page.
    press_until_focused(page, page.locator("details.nav-menu summary"))
    keys.press("Enter")
    manage = page.locator("details.nav-menu").get_by_role("link", name="Manage secrets")
    expect(manage).to_be_visible()
    press_until_focused(page, manage)
    keys.press("Enter")
    expect(page).to_have_url(server.path("/-/secrets"))
    page.wait_for_load_state("load")
    mark(page)

    # Filter down to one secret.
    search = page.get_by_role("search").get_by_label("Filter")
    press_until_focused(page, search)
    keys.type("webhook")
    expect(row(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(row(page, NAME)).to_be_visible()

    # Set it: Enter on Set, type, Enter saves.
    press_until_focused(page, edit_button(page, NAME))
    keys.press("Enter")
    expect(value_input(page, NAME)).to_be_focused()
    keys.type("gamma-keyboard-value-KEYS")
    keys.press("Enter")
    expect(status(page)).to_have_text(f"Saved {NAME}: version 1.")
    expect(edit_button(page, NAME)).to_have_accessible_name(f"Edit {NAME}")
    expect(edit_button(page, NAME)).to_be_focused()
    expect(value_cell(page, NAME)).to_contain_text(MASK + "KEYS")

    # Edit, type a note, Escape: nothing changes and focus comes back.
    keys.press("Enter")
    expect(value_input(page, NAME)).to_be_focused()
    keys.press("Tab")
    expect(note_input(page, NAME)).to_be_focused()
    keys.type("discarded note")
    keys.press("Escape")
    expect(edit_form(page, NAME)).to_have_count(0)
    expect(note_cell(page, NAME)).to_have_text("")
    expect(edit_button(page, NAME)).to_be_focused()

    # Edit the note only, saving with Tab to Save and Enter.
    keys.press("Enter")
    expect(value_input(page, NAME)).to_be_focused()
    keys.press("Tab")
    expect(note_input(page, NAME)).to_be_focused()
    keys.type("typed note")
    keys.press("Tab")
    expect(row(page, NAME).get_by_role("button", name="Save")).to_be_focused()
    keys.press("Enter")
    expect(status(page)).to_have_text(f"Updated the note for {NAME}; the value is unchanged.")
    expect(note_cell(page, NAME)).to_have_text("typed note")
    expect(edit_button(page, NAME)).to_be_focused()

    # Reveal (it comes before Edit), then Hide.
    press_until_focused(page, reveal_button(page, NAME), key="Shift+Tab")
    keys.press("Enter")
    expect(page.locator(f"#revealed-{NAME}")).to_have_text("gamma-keyboard-value-KEYS")
    copy = row(page, NAME).get_by_role("button", name=f"Copy {NAME}")
    expect(copy).to_be_focused()
    keys.press("Tab")
    hide = row(page, NAME).get_by_role("button", name=f"Hide {NAME}")
    expect(hide).to_be_focused()
    keys.press("Enter")
    expect(page.locator(f"#revealed-{NAME}")).to_have_count(0)
    expect(reveal_button(page, NAME)).to_be_focused()

    # Delete: Escape backs out, then confirm with the keyboard.
    delete = row(page, NAME).get_by_role("button", name=f"Delete {NAME}")
    press_until_focused(page, delete)
    keys.press("Enter")
    confirm = row(page, NAME).locator("form.secret-confirm").get_by_role("button", name=f"Delete {NAME}")
    expect(confirm).to_be_focused()
    keys.press("Escape")
    expect(confirm).to_have_count(0)
    expect(delete).to_be_focused()
    keys.press("Enter")
    expect(confirm).to_be_focused()
    keys.press("Tab")
    expect(row(page, NAME).get_by_role("button", name="Cancel")).to_be_focused()
    keys.press("Shift+Tab")
    keys.press("Enter")
    expect(status(page)).to_have_text(f"Deleted {NAME}.")
    expect(value_cell(page, NAME)).to_have_text("Deleted")

    # Undo has the focus: Enter brings it back.
    expect(row(page, NAME).get_by_role("button", name=f"Undo {NAME}")).to_be_focused()
    keys.press("Enter")
    expect(status(page)).to_have_text(f"Restored {NAME}.")  # Undo: no version arithmetic (issue 16)
    expect(version_cell(page, NAME)).to_have_text("2")

    # Restore the first version from the history: it asks first.
    history = row(page, NAME).get_by_role("button", name=f"History of {NAME}")
    press_until_focused(page, history)
    keys.press("Enter")
    expect(history).to_have_attribute("aria-expanded", "true")
    expect(row(page, NAME).get_by_role("heading", name=f"History of {NAME}")).to_be_focused()
    restore = row(page, NAME).get_by_role("button", name="Restore version 1")
    press_until_focused(page, restore)
    keys.press("Enter")
    confirm = row(page, NAME).locator("form.secret-confirm").get_by_role("button", name="Restore version 1")
    expect(confirm).to_be_focused()
    keys.press("Enter")
    expect(status(page)).to_have_text(f"Restored {NAME} version 1 as version 3.")
    expect(version_cell(page, NAME)).to_have_text("3")
    expect(note_cell(page, NAME)).to_have_text("typed note")  # version 1's note, changed in place
    assert_no_page_load(page)
