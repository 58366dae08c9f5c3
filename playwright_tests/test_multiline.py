"""Values of several lines (PEM keys, JSON files): set, revealed, copied, exactly."""

import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from helpers import (
    MASK,
    assert_accessible,
    assert_no_page_load,
    edit_form,
    feedback,
    fill_past_maxlength,
    note_input,
    open_edit,
    reveal,
    row,
    save,
    sign_in,
    snap,
    status,
    value_cell,
    value_input,
)

PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
    "-----END PRIVATE KEY-----"
)
SERVICE_ACCOUNT = '{\n  "type": "service_account",\n\t"client_email":  "robot@example.com"\n}'
NAME = "BETA_TOKEN"


def switch_button(page, label):
    return edit_form(page, NAME).get_by_role("button", name=label)


def text_of(locator):
    """(textContent, innerText): the value itself, and what is shown (CSS applied)."""
    return locator.evaluate("element => [element.textContent, element.innerText]")


def posted_value(request):
    return parse_qs(request.post_data, keep_blank_values=True)["secret"][0]


def test_set_reveal_and_copy_a_multiline_value(root_page, context, server):
    page = root_page
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    field = open_edit(page, NAME)
    expect(field).to_have_attribute("type", "password")  # one hidden line by default

    switch_button(page, "Multi-line value").click()
    field = value_input(page, NAME)
    expect(field).to_have_js_property("tagName", "TEXTAREA")
    expect(field).to_be_focused()
    for attribute, value in {"spellcheck": "false", "autocomplete": "off", "autocapitalize": "off"}.items():
        expect(field).to_have_attribute(attribute, value)
    assert_no_page_load(page)
    assert_accessible(page, "multi-line editing")

    field.fill(PEM + "\n")
    snap(page, "multiline-editing")
    save(page, NAME)
    expect(status(page)).to_have_text(f"Saved {NAME}: version 1.")
    expect(edit_form(page, NAME)).to_have_count(0)

    cell = value_cell(page, NAME)
    expect(cell.locator(".secret-mask")).to_have_text("Hidden value" + MASK)  # no hint, no line count

    revealed = reveal(page, NAME)
    assert text_of(revealed) == [PEM, PEM], "the value exactly, shown with its line breaks"
    assert revealed.bounding_box()["height"] > 3 * cell.get_by_role("button", name=f"Copy {NAME}").bounding_box()["height"]
    snap(page, "multiline-revealed")
    cell.get_by_role("button", name=f"Copy {NAME}").click()
    expect(status(page)).to_have_text(f"Copied {NAME} to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == PEM
    assert_no_page_load(page)


def test_what_was_typed_crosses_the_switch(root_page):
    page = root_page
    open_edit(page, NAME)
    value_input(page, NAME).fill("typed before the switch")
    note_input(page, NAME).fill("a note typed first")
    switch_button(page, "Multi-line value").click()
    expect(value_input(page, NAME)).to_have_js_property("tagName", "TEXTAREA")
    expect(value_input(page, NAME)).to_have_value("typed before the switch")
    expect(note_input(page, NAME)).to_have_value("a note typed first")

    # Back to one line: a value of one line comes along; one of several would
    # lose its line breaks in a password input, so it stays behind.
    switch_button(page, "Single-line value").click()
    expect(value_input(page, NAME)).to_have_attribute("type", "password")
    expect(value_input(page, NAME)).to_have_value("typed before the switch")
    switch_button(page, "Multi-line value").click()
    expect(value_input(page, NAME)).to_have_js_property("tagName", "TEXTAREA")
    value_input(page, NAME).fill("two\nlines")
    switch_button(page, "Single-line value").click()
    expect(value_input(page, NAME)).to_have_attribute("type", "password")
    expect(value_input(page, NAME)).to_have_value("")
    expect(note_input(page, NAME)).to_have_value("a note typed first")
    assert_no_page_load(page)


def test_pasting_several_lines_switches_to_the_multiline_field(root_page):
    page = root_page
    field = open_edit(page, NAME)
    field.fill("prefix-")
    # A paste as the browser delivers it (Playwright cannot paste into a page).
    field.evaluate(
        """(input, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        SERVICE_ACCOUNT,
    )
    expect(status(page)).to_have_text("That paste has several lines: switched to a multi-line value.")
    field = value_input(page, NAME)
    expect(field).to_have_js_property("tagName", "TEXTAREA")
    expect(field).to_have_value("prefix-" + SERVICE_ACCOUNT)
    assert field.input_value() == "prefix-" + SERVICE_ACCOUNT
    save(page, NAME, value=SERVICE_ACCOUNT)
    expect(status(page)).to_have_text(f"Saved {NAME}: version 1.")
    assert text_of(reveal(page, NAME))[0] == SERVICE_ACCOUNT


def test_a_paste_of_one_line_stays_in_the_password_input(root_page):
    page = root_page
    field = open_edit(page, NAME)
    field.evaluate(
        """input => {
            const data = new DataTransfer();
            data.setData("text/plain", "sk-one-line\\n");
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    expect(value_input(page, NAME)).to_have_attribute("type", "password")
    expect(status(page)).not_to_have_text(re.compile("several lines"))


def test_a_validation_error_keeps_the_multiline_value(root_page):
    page = root_page
    open_edit(page, NAME)
    switch_button(page, "Multi-line value").click()
    expect(value_input(page, NAME)).to_have_js_property("tagName", "TEXTAREA")
    value_input(page, NAME).fill(PEM)
    fill_past_maxlength(note_input(page, NAME), "n" * 201)
    with page.expect_response(lambda r: r.request.method == "POST") as response_info:
        save(page, NAME)
    assert response_info.value.status == 422
    assert PEM.splitlines()[1] not in response_info.value.text(), "the value is never sent back"
    expect(edit_form(page, NAME).locator(".secret-field-error")).to_have_text(re.compile("note is too long"))
    field = value_input(page, NAME)
    expect(field).to_have_js_property("tagName", "TEXTAREA")
    expect(field).to_have_value(PEM)  # carried over from the form it replaced
    assert field.input_value() == PEM

    save(page, NAME, note="fixed")
    expect(status(page)).to_have_text(f"Saved {NAME}: version 1.")
    assert text_of(reveal(page, NAME))[0] == PEM
    assert_no_page_load(page)


@pytest.fixture
def nojs(new_context, server):
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    return context.new_page()


def test_multiline_value_without_javascript(nojs, server):
    page = nojs
    page.goto(server.path(f"/-/secrets/{NAME}"))
    expect(page.get_by_label("Value", exact=True)).to_have_attribute("type", "password")
    page.get_by_role("button", name="Multi-line value").click()
    expect(page).to_have_url(server.path(f"/-/secrets/{NAME}?multiline=1"))
    field = page.get_by_label("Value", exact=True)
    expect(field).to_have_js_property("tagName", "TEXTAREA")
    field.fill(PEM + "\n")
    page.get_by_label("Note").fill("a PEM key")
    with page.expect_request(lambda r: r.method == "POST") as request_info:
        page.get_by_role("button", name="Save").click()
    # A browser submits a textarea's line breaks as CRLF (htmx's fetch sends LF):
    # either way the value is stored with LF, and without the final newline.
    assert posted_value(request_info.value) == PEM.replace("\n", "\r\n") + "\r\n"
    expect(page).to_have_url(server.path(f"/-/secrets#secret-{NAME}"))
    expect(feedback(page, NAME)).to_have_text(f"Saved {NAME}: version 1.")
    expect(status(page)).to_have_text(f"Saved {NAME}: version 1.")
    expect(value_cell(page, NAME).locator(".secret-mask")).to_have_text("Hidden value" + MASK)

    row(page, NAME).get_by_role("button", name=f"Reveal {NAME}").click()
    revealed = page.locator(f"code#revealed-{NAME}")
    expect(revealed).to_be_visible()
    assert text_of(revealed) == [PEM, PEM]

    # Back to one line: the switch is a plain link-like form too.
    page.goto(server.path(f"/-/secrets/{NAME}?multiline=1"))
    page.get_by_role("button", name="Single-line value").click()
    expect(page.get_by_label("New value")).to_have_attribute("type", "password")
