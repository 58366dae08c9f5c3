"""Setting and editing values in the inline form, its keys, and its errors."""

import re

from playwright.sync_api import expect

from helpers import (
    MASK,
    about,
    assert_no_page_load,
    edit_button,
    edit_form,
    feedback,
    fill_past_maxlength,
    note_cell,
    note_input,
    open_edit,
    open_secrets,
    reveal,
    row,
    save,
    seed,
    set_secret,
    snap,
    status,
    value_cell,
    value_input,
    version_cell,
)


def test_set_a_never_set_secret(root_page):
    page = root_page
    value = open_edit(page, "BETA_TOKEN")

    form = edit_form(page, "BETA_TOKEN")
    expect(row(page, "BETA_TOKEN").get_by_role("form", name="Set BETA_TOKEN")).to_be_visible()
    expect(form.get_by_label("Value", exact=True)).to_have_attribute("type", "password")
    expect(value).to_be_focused()
    expect(form.get_by_label("Note")).to_be_visible()
    expect(form.get_by_role("button", name="Cancel")).to_be_visible()
    # The editor opens under the secret: its name, description and obtain link stay in view above it.
    expect(row(page, "BETA_TOKEN").get_by_role("rowheader")).to_have_text("BETA_TOKEN")
    expect(about(page, "BETA_TOKEN")).to_contain_text("A token for the Beta map tiles.")
    expect(about(page, "BETA_TOKEN").get_by_role("link", name="Create a Beta token (opens in a new tab)")).to_be_visible()
    assert about(page, "BETA_TOKEN").bounding_box()["y"] < form.bounding_box()["y"]
    # Pressing Set again goes back to the open editor rather than opening a second.
    form.get_by_label("Note").focus()
    edit_button(page, "BETA_TOKEN").click()
    expect(value).to_be_focused()
    expect(edit_form(page, "BETA_TOKEN")).to_have_count(1)
    snap(page, "editing")
    assert_no_page_load(page)

    save(page, "BETA_TOKEN", "beta", "Short one")
    expect(feedback(page, "BETA_TOKEN")).to_have_text("Saved BETA_TOKEN: version 1.")
    expect(status(page)).to_have_text("Saved BETA_TOKEN: version 1.")
    expect(edit_form(page, "BETA_TOKEN")).to_have_count(0)
    # Short values show the mask alone: no hint of the value.
    expect(value_cell(page, "BETA_TOKEN").locator(".secret-mask")).to_have_text(
        re.compile(rf"^\s*Hidden value\s*{MASK}\s*$")
    )
    expect(version_cell(page, "BETA_TOKEN")).to_have_text("1")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("Short one")
    expect(edit_button(page, "BETA_TOKEN")).to_have_accessible_name("Edit BETA_TOKEN")
    expect(edit_button(page, "BETA_TOKEN")).to_be_focused()
    assert_no_page_load(page)


def test_edit_stores_a_new_version(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-original-value-0001", "first")
    open_secrets(page, server)
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")

    value = open_edit(page, "ALPHA_API_KEY")
    form = edit_form(page, "ALPHA_API_KEY")
    expect(row(page, "ALPHA_API_KEY").get_by_role("form", name="Edit ALPHA_API_KEY")).to_be_visible()
    expect(form.get_by_label("New value")).to_be_visible()
    expect(value).to_be_focused()
    expect(value).to_have_value("")
    expect(value).to_have_accessible_description(
        "Leave blank to keep the current value (version 1)."
    )
    expect(note_input(page, "ALPHA_API_KEY")).to_have_value("first")

    save(page, "ALPHA_API_KEY", "alpha-replacement-value-0002", "second")
    expect(feedback(page, "ALPHA_API_KEY")).to_have_text("Saved ALPHA_API_KEY: version 2.")
    expect(status(page)).to_have_text("Saved ALPHA_API_KEY: version 2.")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("2")
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "0002")
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("second")
    expect(edit_button(page, "ALPHA_API_KEY")).to_be_focused()
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text("alpha-replacement-value-0002")
    assert_no_page_load(page)


def test_edit_only_the_note_keeps_the_value(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-kept-value-KEEP", "old note")
    open_secrets(page, server)

    open_edit(page, "ALPHA_API_KEY")
    save(page, "ALPHA_API_KEY", note="new note")
    updated = "Updated the note for ALPHA_API_KEY; the value is unchanged."
    expect(feedback(page, "ALPHA_API_KEY")).to_have_text(updated)
    expect(status(page)).to_have_text(updated)
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("new note")
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text("alpha-kept-value-KEEP")
    assert_no_page_load(page)


def test_escape_cancels_and_restores_the_row(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-unchanged-value-SAME", "keep me")
    open_secrets(page, server)

    # Escape in the value field.
    value = open_edit(page, "ALPHA_API_KEY")
    value.fill("this-must-not-be-saved")
    value.press("Escape")
    expect(edit_form(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text(MASK + "SAME")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    expect(edit_button(page, "ALPHA_API_KEY")).to_be_focused()

    # Escape in the note.
    open_edit(page, "ALPHA_API_KEY")
    note = note_input(page, "ALPHA_API_KEY")
    note.fill("a note that must not be saved")
    note.press("Escape")
    expect(edit_form(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(note_cell(page, "ALPHA_API_KEY")).to_have_text("keep me")
    expect(edit_button(page, "ALPHA_API_KEY")).to_be_focused()

    # Escape on the Save button.
    open_edit(page, "ALPHA_API_KEY")
    edit_form(page, "ALPHA_API_KEY").get_by_role("button", name="Save").focus()
    page.keyboard.press("Escape")
    expect(edit_form(page, "ALPHA_API_KEY")).to_have_count(0)

    # The Cancel button does the same.
    open_edit(page, "ALPHA_API_KEY")
    edit_form(page, "ALPHA_API_KEY").get_by_role("button", name="Cancel").click()
    expect(edit_form(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(edit_button(page, "ALPHA_API_KEY")).to_be_focused()

    expect(status(page)).to_be_empty()
    expect(feedback(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text("alpha-unchanged-value-SAME")
    expect(version_cell(page, "ALPHA_API_KEY")).to_have_text("1")
    assert_no_page_load(page)


def test_escape_on_a_never_set_secret_leaves_it_unset(root_page):
    page = root_page
    value = open_edit(page, "GAMMA_WEBHOOK_SECRET")
    value.fill("not-saved")
    value.press("Escape")
    expect(edit_form(page, "GAMMA_WEBHOOK_SECRET")).to_have_count(0)
    expect(value_cell(page, "GAMMA_WEBHOOK_SECRET")).to_have_text("Not set")
    expect(edit_button(page, "GAMMA_WEBHOOK_SECRET")).to_have_accessible_name("Set GAMMA_WEBHOOK_SECRET")
    expect(edit_button(page, "GAMMA_WEBHOOK_SECRET")).to_be_focused()
    assert_no_page_load(page)


def test_enter_in_the_value_saves(root_page):
    page = root_page
    value = open_edit(page, "GAMMA_WEBHOOK_SECRET")
    value.fill("gamma-by-enter")
    value.press("Enter")
    expect(status(page)).to_have_text("Saved GAMMA_WEBHOOK_SECRET: version 1.")
    expect(version_cell(page, "GAMMA_WEBHOOK_SECRET")).to_have_text("1")
    assert_no_page_load(page)


def test_ctrl_enter_in_the_note_saves(root_page):
    page = root_page
    open_edit(page, "GAMMA_WEBHOOK_SECRET")
    value_input(page, "GAMMA_WEBHOOK_SECRET").fill("gamma-by-ctrl-enter")
    note = note_input(page, "GAMMA_WEBHOOK_SECRET")
    note.fill("line one")
    # A plain Enter in the note is a new line, not a save.
    note.press("Enter")
    expect(edit_form(page, "GAMMA_WEBHOOK_SECRET")).to_be_visible()
    note.press_sequentially("line two")
    note.press("Control+Enter")
    expect(status(page)).to_have_text("Saved GAMMA_WEBHOOK_SECRET: version 1.")
    expect(note_cell(page, "GAMMA_WEBHOOK_SECRET")).to_contain_text("line one")
    expect(note_cell(page, "GAMMA_WEBHOOK_SECRET")).to_contain_text("line two")
    assert_no_page_load(page)


def test_empty_value_for_a_never_set_secret_is_an_inline_error(root_page):
    page = root_page
    open_edit(page, "BETA_TOKEN")
    note_input(page, "BETA_TOKEN").fill("note kept after the error")
    with page.expect_response(
        lambda r: r.url.endswith("/-/secrets/BETA_TOKEN") and r.request.method == "POST"
    ) as response_info:
        edit_form(page, "BETA_TOKEN").get_by_role("button", name="Save").click()
    assert response_info.value.status == 422

    form = edit_form(page, "BETA_TOKEN")
    error = form.locator(".secret-field-error")
    expect(error).to_have_text(re.compile(r"^Enter a value"))
    value = value_input(page, "BETA_TOKEN")
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(value).to_have_accessible_description(re.compile(r"^Enter a value"))
    expect(value).to_be_focused()
    expect(note_input(page, "BETA_TOKEN")).to_have_value("note kept after the error")
    snap(page, "error")
    assert_no_page_load(page)

    # Correcting it saves.
    value.fill("beta-after-error")
    value.press("Enter")
    expect(status(page)).to_have_text("Saved BETA_TOKEN: version 1.")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("note kept after the error")
    assert_no_page_load(page)


def test_note_stops_at_200_characters_and_counts_them(root_page):
    page = root_page
    open_edit(page, "BETA_TOKEN")
    note = note_input(page, "BETA_TOKEN")
    count = edit_form(page, "BETA_TOKEN").locator("[data-count]")
    expect(count).to_have_text("0/200 characters")
    expect(note).to_have_accessible_description("0/200 characters")
    note.press_sequentially("twelve chars")
    expect(count).to_have_text("12/200 characters")
    # Typing (or pasting) past the limit stops at it.
    note.fill("n" * 201)
    expect(note).to_have_value("n" * 200)
    expect(count).to_have_text("200/200 characters")
    save(page, "BETA_TOKEN", "beta-value-kept")
    expect(status(page)).to_have_text("Saved BETA_TOKEN: version 1.")
    expect(note_cell(page, "BETA_TOKEN")).to_have_text("n" * 200)
    assert_no_page_load(page)


def test_note_over_200_characters_is_an_inline_error(root_page):
    page = root_page
    long_note = "n" * 201
    open_edit(page, "BETA_TOKEN")
    value_input(page, "BETA_TOKEN").fill("beta-value-kept")
    fill_past_maxlength(note_input(page, "BETA_TOKEN"), long_note)
    save(page, "BETA_TOKEN")

    form = edit_form(page, "BETA_TOKEN")
    expect(form.locator(".secret-field-error")).to_have_text(
        re.compile(r"^The note is too long")
    )
    note = note_input(page, "BETA_TOKEN")
    expect(note).to_have_attribute("aria-invalid", "true")
    expect(note).to_have_accessible_description(
        re.compile(r"^The note is too long.* 201/200 characters$")
    )
    expect(note).to_have_value(long_note)
    expect(note).to_be_focused()
    expect(value_input(page, "BETA_TOKEN")).to_have_value("beta-value-kept")
    expect(status(page)).to_be_empty()
    expect(feedback(page, "BETA_TOKEN")).to_have_count(0)

    note.fill("n" * 200)
    edit_form(page, "BETA_TOKEN").get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved BETA_TOKEN: version 1.")
    expect(reveal(page, "BETA_TOKEN")).to_have_text("beta-value-kept")
    assert_no_page_load(page)


def test_saves_after_an_error_then_edits_again(root_page):
    """The form keeps working after an error swap (its htmx attributes survive)."""
    page = root_page
    open_edit(page, "BETA_TOKEN")
    save(page, "BETA_TOKEN", "", "")
    expect(edit_form(page, "BETA_TOKEN").locator(".secret-field-error")).to_be_visible()
    edit_form(page, "BETA_TOKEN").get_by_role("button", name="Cancel").click()
    expect(edit_form(page, "BETA_TOKEN")).to_have_count(0)
    set_secret(page, "BETA_TOKEN", "beta-one", version=1)
    set_secret(page, "BETA_TOKEN", "beta-two", version=2)
    expect(row(page, "BETA_TOKEN").locator(".secret-version")).to_have_text("2")
    assert_no_page_load(page)
