"""The admin list and My secrets share one row: the same job done the same way on
both, with the mouse and with the keyboard, and without JavaScript.

A shared secret (root on /-/secrets) and a personal one (alice on My secrets)
go through the same steps: set (after a cancelled first try), reveal, copy
from the revealed value and from the masked row, hide, delete (after a
cancelled first try). Only the words differ: "your" and "own" on My secrets.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from helpers import assert_no_page_load, mark, sign_in, snap


@dataclass
class Kind:
    """One of the two pages, and how it names a secret's row and controls."""

    name: str
    actor: str
    path: str
    row_id: str
    whose: str  # in the controls' names: "" or "your "
    saved: str
    deleted: str
    unset: str  # the value cell of a secret without a value
    gone: str  # the value cell after a delete

    def row(self, page):
        return page.locator(f"#{self.row_id}")

    def control(self, page, verb, role="button"):
        return self.row(page).get_by_role(role, name=f"{verb} {self.whose}{self.name}", exact=True)


SHARED = Kind(
    "BETA_TOKEN", "root", "/-/secrets", "secret-BETA_TOKEN", "",
    saved="Saved BETA_TOKEN: version 1.", deleted="Deleted BETA_TOKEN.", unset="Not set", gone="Deleted",
)
OWN = Kind(
    "AI_PERSONAL_KEY", "alice", "/-/secrets/-/mine", "mine-AI_PERSONAL_KEY", "your ",
    saved="Saved your own AI_PERSONAL_KEY: version 1.",
    deleted="Deleted your own AI_PERSONAL_KEY: plugins use the shared value for you again.",
    unset="Not set: plugins use the shared value", gone="Not set: plugins use the shared value",
)
VALUE = "sk-one-row-value-0123456789"


@pytest.fixture(params=[SHARED, OWN], ids=["admin list", "my secrets"])
def kind(request):
    return request.param


@pytest.fixture
def opened(kind, page, context, start_datasette):
    """The kind's page, signed in, JavaScript on, the clipboard allowed."""
    server = start_datasette(personal=True)
    sign_in(context, server, kind.actor)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.goto(server.path(kind.path))
    page.wait_for_load_state("load")
    mark(page)
    return page


@pytest.mark.parametrize("by", ["mouse", "keyboard"])
def test_the_same_job_on_both_pages(opened, kind, by):
    page = opened

    def press(locator):
        if by == "mouse":
            locator.click()
        else:
            locator.focus()
            page.keyboard.press("Enter")

    row = kind.row(page)
    value_cell = row.locator("td.secret-value")
    editor = row.locator("form.secret-form")
    feedback = row.locator("tr.secret-feedback")

    # Set, typed, then cancelled: nothing changes, focus back on Set.
    press(kind.control(page, "Set", "link"))
    field = editor.get_by_label("Value", exact=True)
    expect(field).to_be_focused()
    field.fill("typed-then-cancelled")
    press(editor.get_by_role("button", name="Cancel"))
    expect(editor).to_have_count(0)
    expect(value_cell).to_have_text(kind.unset)
    expect(kind.control(page, "Set", "link")).to_be_focused()

    # Set, saved: the result at the row, focus on Edit.
    press(kind.control(page, "Set", "link"))
    field.fill(VALUE)
    press(editor.get_by_role("button", name="Save"))
    expect(feedback).to_have_text(kind.saved)
    expect(page.locator("#secrets-status")).to_have_text(kind.saved)
    expect(kind.control(page, "Edit", "link")).to_be_focused()
    snap(page, f"one-row-saved-{kind.actor}-{by}")

    # Reveal, Copy what is shown, Hide: focus back on Reveal.
    press(kind.control(page, "Reveal"))
    expect(row.locator("code.secret-revealed-value")).to_have_text(VALUE)
    copy = kind.control(page, "Copy")
    expect(copy).to_be_focused()
    press(copy)
    expect(page.locator("#secrets-status")).to_have_text(f"Copied {kind.whose}{kind.name} to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == VALUE
    page.evaluate("navigator.clipboard.writeText('')")
    press(kind.control(page, "Hide"))
    expect(row.locator("code.secret-revealed-value")).to_have_count(0)
    expect(kind.control(page, "Reveal")).to_be_focused()

    # Copy from the masked row: onto the clipboard, never onto the page.
    press(kind.control(page, "Copy"))
    expect(page.locator("#secrets-status")).to_have_text(f"Copied {kind.whose}{kind.name} to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == VALUE
    expect(page.locator("body")).not_to_contain_text(VALUE)

    # Delete: Cancel first, focus back on Delete; then confirm.
    press(kind.control(page, "Delete"))
    confirm = row.locator("form.secret-confirm").get_by_role("button", name=f"Delete {kind.whose}{kind.name}")
    expect(confirm).to_be_focused()
    press(row.locator("form.secret-confirm").get_by_role("button", name="Cancel"))
    expect(confirm).to_have_count(0)
    expect(kind.control(page, "Delete")).to_be_focused()
    press(kind.control(page, "Delete"))
    press(confirm)
    expect(feedback).to_contain_text(kind.deleted)
    expect(value_cell).to_have_text(kind.gone)
    assert_no_page_load(page)


def test_the_same_job_without_javascript(kind, new_context, start_datasette):
    server = start_datasette(personal=True)
    context = new_context(java_script_enabled=False)
    sign_in(context, server, kind.actor)
    page = context.new_page()
    page.goto(server.path(kind.path))
    row = kind.row(page)

    # Set: a page of its own; Cancel goes back to the row, then Save does.
    kind.control(page, "Set", "link").click()
    page.get_by_label("Value", exact=True).fill("typed-then-cancelled")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(server.path(f"{kind.path}#{kind.row_id}"))
    expect(row.locator("td.secret-value")).to_have_text(kind.unset)
    kind.control(page, "Set", "link").click()
    page.get_by_label("Value", exact=True).fill(VALUE)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(server.path(f"{kind.path}#{kind.row_id}"))
    expect(page.get_by_text(kind.saved).first).to_be_visible()

    # Reveal: a page of its own, which goes back.
    kind.control(page, "Reveal").click()
    expect(page.locator("code.secret-revealed-value")).to_have_text(VALUE)
    page.get_by_role("link", name="Hide and go back").click()
    expect(kind.row(page).locator("td.secret-value")).not_to_contain_text(VALUE)

    # History: a page of its own.
    kind.control(page, "History of").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"History of {kind.whose.replace('your ', 'your own ')}{kind.name}")
    expect(page.locator("table.secret-versions tbody th").first).to_have_text("1 current")
    page.go_back()

    # Delete: a page asks first.
    kind.control(page, "Delete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Delete")
    page.get_by_role("button", name=f"Delete {kind.name}").click()
    expect(page).to_have_url(server.path(f"{kind.path}#{kind.row_id}"))
    expect(page.get_by_text(kind.deleted).first).to_be_visible()
    expect(kind.row(page).locator("td.secret-value")).to_have_text(kind.gone)


def test_my_secrets_reads_as_the_admin_list(browser, start_datasette):
    """The same headers (own values have no note), Show, a multi-line value, History in the row,
    and no History for someone who never stored a value."""
    server = start_datasette(personal=True)

    def headers(actor, path):
        context = browser.new_context()
        sign_in(context, server, actor)
        page = context.new_page()
        page.goto(server.path(path))
        return page, page.locator("table.secrets-table thead th").all_inner_texts()

    _, admin = headers("root", "/-/secrets")
    alice, mine = headers("alice", "/-/secrets/-/mine")
    assert mine == [header for header in admin if header != "Note"]
    mark(alice)

    row = OWN.row(alice)
    OWN.control(alice, "Set", "link").click()
    form = row.locator("form.secret-form")
    field = form.get_by_label("Value", exact=True)
    field.fill("sk-check-before-saving")
    form.get_by_role("button", name="Show the value").click()
    expect(field).to_have_attribute("type", "text")
    form.get_by_role("button", name="Multi-line value").click()
    field = form.get_by_label("Value", exact=True)
    expect(field).to_have_js_property("tagName", "TEXTAREA")
    expect(field).to_have_value("sk-check-before-saving")  # carried across the switch
    field.fill("sk-first-line\nsecond line")
    form.get_by_role("button", name="Save").click()
    expect(row.locator("tr.secret-feedback")).to_have_text(OWN.saved)
    OWN.control(alice, "Reveal").click()
    revealed = row.locator("code.secret-revealed-value")
    assert revealed.evaluate("code => code.textContent") == "sk-first-line\nsecond line"

    # History opens in the row (no page of its own), and closes again.
    history = OWN.control(alice, "History of")
    history.click()
    expect(history).to_have_attribute("aria-expanded", "true")
    expect(row.get_by_role("heading", name=f"History of your own {OWN.name}")).to_be_focused()
    versions = row.get_by_role("table", name=f"Versions of your own {OWN.name} (values are never shown here)")
    expect(versions.locator("tbody th")).to_have_text(["1 current"])
    snap(alice, "one-row-own-history")
    alice.keyboard.press("Escape")
    expect(versions).to_have_count(0)
    expect(history).to_be_focused()
    assert_no_page_load(alice)

    bob, _ = headers("bob", "/-/secrets/-/mine")
    expect(OWN.control(bob, "Set", "link")).to_be_visible()
    expect(OWN.row(bob).get_by_role("button")).to_have_count(0)  # no History, Delete or Test without a value
