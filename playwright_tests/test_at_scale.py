"""Issue 9, "Admin UX at scale": the list with 40 registered secrets and an orphan,
in a 1280x900 window and a 375x800 one.

The 36 secrets besides the example plugin's 4 come from plugins/scale_secrets.py
(a 72-character name, a 500-character description, obtain links, names of 1 to
72 characters). ``scale_list`` then stores values so the list has every kind
of row: set, not set, from an environment variable, deleted and orphan.

Each state the tests reach is screenshotted (screenshots/scale-STATE-WIDTH.png)
and checked with axe-core.
"""
import re

from playwright.sync_api import expect

from helpers import (
    assert_accessible,
    edit_button,
    feedback,
    history_button,
    open_secrets,
    press_until_focused,
    reveal,
    row,
    sign_in,
    status,
    unfold,
    value_cell,
    version_cell,
)
from plugins.scale_secrets import LONG_DESCRIPTION, LONG_DESCRIPTION_NAME, LONG_NAME
import scale_helpers
from scale_helpers import (
    HISTORY_NAME,
    LAST_ON_PAGE_ONE,
    LISTED,
    OBTAIN_NAME,
    PAGE_SIZE,
    SET_COUNT,
    UNSET_COUNT,
    VALUES,
    actions,
    assert_in_view,
    assert_not_covered,
    assert_same_widths,
    cancel_delete,
    check_state,
    close_editor,
    confirmation,
    delete_button,
    editor,
    header_widths,
    hide,
    history_row,
    no_javascript,
    open_delete,
    open_editor,
    revealed,
    scale_page,
    toggle_history,
)

# The shared fixtures: every test here runs at 1280 and 375 px.
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args


# 1. Feedback where the eye is


def test_feedback_of_a_save_at_the_bottom_is_in_view(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    name = LAST_ON_PAGE_ONE
    row(page, name).scroll_into_view_if_needed()
    open_editor(page, name).get_by_label("Value", exact=True).fill("mailgun-key-1")
    editor(page, name).get_by_role("button", name="Save").click()

    saved = f"Saved {name}: version 1."
    expect(feedback(page, name)).to_have_text(saved)
    expect(status(page)).to_have_text(saved)
    expect(edit_button(page, name)).to_be_focused()
    assert_in_view(page, feedback(page, name), "the row's feedback")
    assert_in_view(page, status(page), "the #secrets-status notice")
    assert_not_covered(feedback(page, name), "the row's feedback")
    check_state(page, "saved", width)

    # Without JavaScript: the redirect lands on the row, which shows what happened.
    with no_javascript(new_context, server) as nojs:
        nojs.goto(server.path("/-/secrets"))
        edit_button(nojs, name).click()
        expect(nojs.get_by_role("heading", level=1)).to_have_text(f"Edit {name}")
        nojs.get_by_label("New value").fill("mailgun-key-2")
        nojs.get_by_role("button", name="Save").click()
        expect(nojs).to_have_url(re.compile(rf"/-/secrets#secret-{name}$"))
        saved = f"Saved {name}: version 2."
        expect(feedback(nojs, name)).to_have_text(saved)
        expect(status(nojs)).to_have_text(saved)
        assert_in_view(nojs, feedback(nojs, name), "the row's feedback (no JavaScript)")
        assert_in_view(nojs, status(nojs), "the #secrets-status notice (no JavaScript)")
        assert_not_covered(feedback(nojs, name), "the row's feedback (no JavaScript)")
        check_state(nojs, "saved-nojs", width, axe=False)
        # Said once: the next load of the list no longer says it.
        nojs.reload()
        expect(row(nojs, name)).to_be_visible()
        expect(feedback(nojs, name)).to_have_count(0)
        expect(status(nojs)).to_be_empty()


# 2. The notice clears when the next request starts


def test_the_notice_clears_when_the_next_request_starts(page, context, start_datasette, width):
    scale_page(page, context, start_datasette)
    open_editor(page, "BETA_TOKEN").get_by_label("New value").fill("beta-second")
    editor(page, "BETA_TOKEN").get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Saved BETA_TOKEN: version 2.")
    expect(feedback(page, "BETA_TOKEN")).to_be_visible()

    open_delete(page, "ALPHA_API_KEY")
    expect(status(page)).to_be_empty()
    expect(status(page)).to_be_hidden()
    expect(page.locator("tr.secret-feedback:visible")).to_have_count(0)
    expect(page.get_by_text("Saved BETA_TOKEN").filter(visible=True)).to_have_count(0)


# 3. Delete, then Undo


def test_delete_then_undo_restores_the_newest_version(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    name = "ANTHROPIC_API_KEY"
    newest = VALUES[name][-1]
    open_delete(page, name).get_by_role("button", name=f"Delete {name}").click()
    expect(feedback(page, name)).to_contain_text(f"Deleted {name}.")
    undo = feedback(page, name).get_by_role("button", name=f"Undo {name}", exact=True)
    expect(undo).to_be_focused()
    expect(value_cell(page, name)).to_have_text("Deleted")
    expect(actions(page, name).get_by_role("button", name=f"Restore {name}", exact=True)).to_be_visible()
    check_state(page, "deleted-undo", width)

    undo.click()
    expect(status(page)).to_have_text(f"Restored {name}.")  # not version arithmetic (issue 16)
    expect(version_cell(page, name)).to_have_text("3")
    expect(reveal(page, name)).to_have_text(newest)
    hide(page, name)

    # Without JavaScript Undo is a form button on the page the delete redirects to.
    with no_javascript(new_context, server) as nojs:
        nojs.goto(server.path("/-/secrets"))
        delete_button(nojs, name).click()
        expect(nojs.get_by_role("heading", level=1)).to_have_text(f"Delete {name}?")
        nojs.get_by_role("button", name=f"Delete {name}").click()
        expect(nojs).to_have_url(re.compile(rf"/-/secrets#secret-{name}$"))
        expect(feedback(nojs, name)).to_contain_text(f"Deleted {name}.")
        expect(value_cell(nojs, name)).to_have_text("Deleted")
        check_state(nojs, "deleted-undo-nojs", width, axe=False)
        feedback(nojs, name).get_by_role("button", name=f"Undo {name}", exact=True).click()
        expect(feedback(nojs, name)).to_have_text(f"Restored {name}.")
        expect(version_cell(nojs, name)).to_have_text("4")
        row(nojs, name).get_by_role("button", name=f"Reveal {name}", exact=True).click()
        expect(nojs.locator(f"code#revealed-{name}")).to_have_text(newest)


# 4. The editor keeps the secret's context in view


def test_editor_keeps_name_description_and_obtain_link_in_view(page, context, start_datasette, width):
    scale_page(page, context, start_datasette)
    name = OBTAIN_NAME
    body = row(page, name)
    form = open_editor(page, name)
    expect(form.get_by_label("Value", exact=True)).to_be_focused()
    context_parts = {
        "the name": body.locator("th.secret-name"),
        "the description": body.locator(".secret-description"),
        "the obtain link": body.get_by_role("link", name=re.compile("^Get a Maps key")),
    }
    form_top = form.bounding_box()["y"]
    for what, locator in context_parts.items():
        expect(locator).to_be_visible()
        assert_in_view(page, locator, what)
        box = locator.bounding_box()
        assert box["y"] + box["height"] <= form_top + 1, f"{what} is not above the editor"

    note = form.get_by_label("Note")
    count = form.locator("[data-count]")
    expect(count).to_have_text("0/200 characters")
    expect(note).to_have_attribute("maxlength", "200")
    assert count.get_attribute("id") in note.get_attribute("aria-describedby").split()
    note.click()
    page.keyboard.type("Sam's key")
    expect(count).to_have_text("9/200 characters")
    page.keyboard.type("n" * 250)
    expect(count).to_have_text("200/200 characters")
    assert len(note.input_value()) == 200
    check_state(page, "editor-context", width)


# 5. The layout holds in every state


def test_layout_holds_in_every_state(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    small = width < 576
    expect(row(page, LONG_DESCRIPTION_NAME).locator(".secret-description")).to_have_text(LONG_DESCRIPTION)
    if not small:
        widths = header_widths(page)
    check_state(page, "list", width)

    def holds(state):
        check_state(page, state, width)
        if not small:
            assert_same_widths(widths, header_widths(page), state)

    open_editor(page, LONG_NAME)
    holds("editor-long-name")
    close_editor(page, LONG_NAME)

    open_delete(page, LONG_NAME)
    holds("delete-confirmation")
    cancel_delete(page, LONG_NAME)

    toggle_history(page, HISTORY_NAME, True)
    history = history_row(page, HISTORY_NAME)
    expect(history.locator("table.secret-versions > tbody > tr")).to_have_count(4)
    holds("history")
    height = history.bounding_box()["height"]
    if small:
        # Was 2,950px (each version a table row squeezed into a card); now about 660px:
        # two short lines a version, and what happened, a line an event.
        assert height < 800, f"the history of 4 versions is {height:.0f}px tall at {width}px"
    history.get_by_role("button", name="Restore version 1").click()
    restore = history.locator("form.secret-confirm")
    expect(restore.get_by_role("button", name="Restore version 1")).to_be_focused()
    holds("restore-confirmation")
    restore.get_by_role("button", name="Cancel").click()
    expect(restore).to_have_count(0)
    toggle_history(page, HISTORY_NAME, False)

    expect(reveal(page, LONG_NAME)).to_have_text(VALUES[LONG_NAME][0])
    holds("revealed")
    hide(page, LONG_NAME)

    # The pages without JavaScript
    with no_javascript(new_context, server) as nojs:
        pages = {
            "edit": f"/-/secrets/{LONG_NAME}",
            "delete": f"/-/secrets/{LONG_NAME}/delete",
            "history": f"/-/secrets/{HISTORY_NAME}/history",
            "restore": f"/-/secrets/{HISTORY_NAME}/restore?version=1",
        }
        for state, path in pages.items():
            nojs.goto(server.path(path))
            expect(nojs.get_by_role("heading", level=1)).to_be_visible()
            check_state(nojs, f"nojs-{state}", width, axe=False)
        nojs.goto(server.path("/-/secrets"))
        row(nojs, LONG_NAME).get_by_role("button", name=f"Reveal {LONG_NAME}", exact=True).click()
        expect(nojs.locator(f"code#revealed-{LONG_NAME}")).to_have_text(VALUES[LONG_NAME][0])
        check_state(nojs, "nojs-reveal", width, axe=False)
    # The same pages with JavaScript on, for axe-core (it cannot run without).
    for state, path in pages.items():
        page.goto(server.path(path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page, f"the {state} page ({width}px)")


# 6. Keyboard only


def test_keyboard_only(page, context, start_datasette, width):
    page.clock.install()  # the re-mask timer runs when the test says so
    scale_page(page, context, start_datasette, reveal_seconds=2)
    name = "ALPHA_API_KEY"
    # Found without unfolding the card (helpers.unfold): on a phone the keyboard does that.
    controls = row(page, name).locator("td.secret-actions")
    edit = edit_button(page, name)
    history = controls.get_by_role("button", name=f"History of {name}", exact=True)
    delete = controls.get_by_role("button", name=f"Delete {name}", exact=True)
    value = editor(page, name).get_by_label("New value")

    press_until_focused(page, edit)
    page.keyboard.press("Enter")  # Edit is a link to the editor's page (issue 16)
    expect(value).to_be_focused()
    page.keyboard.type("alpha-typed-at-the-keyboard")
    page.keyboard.press("Enter")
    expect(status(page)).to_have_text(f"Saved {name}: version 2.")
    expect(edit).to_be_focused()

    # Ctrl+Enter in the note saves too.
    page.keyboard.press("Enter")
    expect(value).to_be_focused()
    page.keyboard.press("Tab")
    expect(editor(page, name).get_by_label("Note")).to_be_focused()
    page.keyboard.type("typed, not clicked")
    page.keyboard.press("Control+Enter")
    expect(status(page)).to_have_text(f"Updated the note for {name}; the value is unchanged.")
    expect(edit).to_be_focused()

    # Escape closes the editor; focus back on Edit.
    page.keyboard.press("Enter")
    expect(value).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor(page, name)).to_have_count(0)
    expect(edit).to_be_focused()

    # On a phone, More (after Edit) unfolds the card's other actions.
    if width < 576:
        page.keyboard.press("Tab")
        expect(row(page, name).get_by_role("button", name=f"More about {name}")).to_be_focused()
        page.keyboard.press("Enter")
        expect(delete).to_be_visible()

    # Escape cancels a delete; focus back on Delete.
    press_until_focused(page, delete)
    page.keyboard.press("Enter")
    expect(confirmation(page, name).get_by_role("button", name=f"Delete {name}")).to_be_focused()
    page.keyboard.press("Escape")
    expect(confirmation(page, name)).to_have_count(0)
    expect(delete).to_be_focused()

    # History brings focus to its heading; the toggle closes it and keeps the focus.
    press_until_focused(page, history, "Shift+Tab")
    page.keyboard.press("Enter")
    expect(history).to_have_attribute("aria-expanded", "true")
    expect(history_row(page, name)).to_be_visible()
    expect(history_row(page, name).get_by_role("heading", name=f"History of {name}")).to_be_focused()
    history.focus()
    page.keyboard.press("Space")
    expect(history).to_have_attribute("aria-expanded", "false")
    expect(history_row(page, name)).to_have_count(0)
    expect(history).to_be_focused()

    # A revealed value hides itself again; focus back on Reveal, and the notice says so.
    reveal_button = row(page, name).get_by_role("button", name=f"Reveal {name}", exact=True)
    press_until_focused(page, reveal_button, "Shift+Tab")
    page.keyboard.press("Enter")
    expect(revealed(page, name)).to_have_text("alpha-typed-at-the-keyboard")
    assert row(page, name).locator("td.secret-value").evaluate("cell => cell.contains(document.activeElement)")
    page.clock.fast_forward(3000)
    expect(revealed(page, name)).to_have_count(0)
    expect(reveal_button).to_be_focused()
    expect(status(page)).to_have_text(f"{name} is hidden again.")
    check_state(page, "keyboard-re-masked", width)


# 7. Copy without showing


def test_copy_without_showing_the_value(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    name = "BETA_TOKEN"
    secret_value = VALUES[name][0]
    unfold(page, name)
    row(page, name).get_by_role("button", name=f"Copy {name}", exact=True).click()
    expect(status(page)).to_have_text(f"Copied {name} to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret_value
    assert secret_value not in page.content()
    expect(revealed(page, name)).to_have_count(0)
    check_state(page, "copied", width)

    page.goto(server.path(f"/-/secrets/-/audit?secret={name}"))
    audit = page.locator("table.secrets-audit tbody tr")
    # A copy has its own word in the log (its Detail no longer repeats it).
    copied = audit.filter(has=page.locator("td[data-label=Action]", has_text="Copied"))
    expect(copied).to_have_count(1)
    expect(copied.locator("td[data-label=Who]")).to_have_text("root")

    # manager may manage secrets but not reveal them: no Copy (nor Reveal).
    manager = new_context()
    sign_in(manager, server, "manager")
    manager_page = manager.new_page()
    open_secrets(manager_page, server)
    expect(edit_button(manager_page, name)).to_be_visible()
    expect(row(manager_page, name).get_by_role("button", name=re.compile("^(Copy|Reveal) "))).to_have_count(0)
    manager.close()

    # Without JavaScript Copy reveals, on a page that has no Copy button.
    with no_javascript(new_context, server) as nojs:
        nojs.goto(server.path("/-/secrets"))
        row(nojs, name).get_by_role("button", name=f"Copy {name}", exact=True).click()
        expect(nojs.get_by_role("heading", level=1)).to_have_text(name)
        expect(nojs.locator(f"code#revealed-{name}")).to_have_text(secret_value)
        expect(nojs.get_by_role("button", name=re.compile("Copy"))).to_have_count(0)


# 8. Filter and count


def test_filter_and_status_counts(page, context, start_datasette, width):
    scale_page(page, context, start_datasette)
    listed = len(LISTED)
    count = page.locator("#secrets-count")
    expect(count).to_have_text(f"{listed} secrets.")
    statuses = page.get_by_role("navigation", name="Show secrets by status")
    for label, number in {
        "All": listed,
        "Not set": UNSET_COUNT,
        "Set": SET_COUNT,
        "Environment": 1,
        "Deleted": 1,
        "No longer used": 1,
    }.items():
        expect(statuses.get_by_role("link", name=f"{label} ({number})", exact=True)).to_be_visible()

    page.locator("#secrets-q").press_sequentially("key alpha")
    expect(page.locator("tbody.secret")).to_have_count(1)
    expect(row(page, "ALPHA_API_KEY")).to_be_visible()
    expect(count).to_have_text(f"1 of {listed} secrets shown matching “key alpha”.")
    check_state(page, "filtered", width)

    page.locator("#secrets-q").fill("")
    expect(page.locator("tbody.secret")).to_have_count(min(listed, PAGE_SIZE))
    expect(count).to_have_text(f"{listed} secrets.")

    not_set = statuses.get_by_role("link", name=f"Not set ({UNSET_COUNT})", exact=True)
    not_set.click()
    expect(not_set).to_have_attribute("aria-current", "true")
    expect(page).to_have_url(re.compile(r"[?&]status=unset"))
    expect(count).to_have_text(f"{UNSET_COUNT} of {listed} secrets shown with status “Not set”.")
    rows = page.locator("tbody.secret")
    expect(rows).to_have_count(min(UNSET_COUNT, PAGE_SIZE))
    expect(rows.locator("td.secret-value")).to_have_text(["Not set"] * min(UNSET_COUNT, PAGE_SIZE))
    check_state(page, "not-set", width)
