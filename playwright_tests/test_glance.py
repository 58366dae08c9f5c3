"""Issue 16, "An admin page that reads at a glance": the 40-secret list at 1280x900
and 375x800. Counts stay true after a change made in place; Escape closes what a
row opened and gives focus back; one line per secret at 1280 px; a Test result
spans its row; one primary action per row.

Each state is screenshotted (screenshots/glance-STATE-WIDTH.png) and checked with axe-core.
"""

import re

from playwright.sync_api import Page, expect

from helpers import edit_button, feedback, history_button, open_secrets, row, seed, status
import scale_helpers
from scale_helpers import (
    DELETED,
    ENV_NAME,
    HISTORY_NAME,
    LONG_NAME,
    OBTAIN_NAME,
    ORPHAN,
    VIEWPORTS,
    check_state,
    confirmation,
    delete_button,
    editor,
    history_row,
    no_javascript,
    scale_page,
)

# The shared fixtures (scale_helpers), so every test here runs at 1280 and 375 px too.
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args

CHECKED = "ALPHA_API_KEY"  # the example plugin's check passes for values starting alpha-


def tallies(page: Page):
    """The status links as they read, and the result line."""
    links = page.get_by_role("navigation", name="Show secrets by status").get_by_role("link")
    return [re.sub(r"\s+", " ", text) for text in links.all_inner_texts()] + [
        page.locator("#secrets-count").inner_text()
    ]


def assert_tallies_survive_a_reload(page: Page, server, what):
    shown = tallies(page)
    page.reload()
    expect(page.locator("tbody.secret").first).to_be_visible()
    assert tallies(page) == shown, f"after {what} in place the counts differ from a reload's"


def test_counts_after_a_save_and_a_delete_equal_a_reload(page, context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    before = tallies(page)
    edit_button(page, OBTAIN_NAME).click()
    editor(page, OBTAIN_NAME).get_by_label("Value", exact=True).fill("maps-key-1")
    editor(page, OBTAIN_NAME).get_by_role("button", name="Save").click()
    expect(feedback(page, OBTAIN_NAME)).to_have_text(f"Saved {OBTAIN_NAME}: version 1.")
    assert tallies(page) != before, "a secret set moves from Not set to Set"
    check_state(page, "glance-saved", width)
    assert_tallies_survive_a_reload(page, server, "a save")

    delete_button(page, "BETA_TOKEN").click()
    confirmation(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(feedback(page, "BETA_TOKEN")).to_contain_text("Deleted BETA_TOKEN.")
    check_state(page, "glance-deleted", width)
    assert_tallies_survive_a_reload(page, server, "a delete")

    # Restore (as Undo) says what came back, not version arithmetic; the counts follow.
    row(page, "BETA_TOKEN").get_by_role("button", name="Restore BETA_TOKEN").click()
    expect(feedback(page, "BETA_TOKEN")).to_have_text("Restored BETA_TOKEN.")
    assert_tallies_survive_a_reload(page, server, "an Undo")

    # Filtered by status, the result line a reload would show.
    page.get_by_role("link", name=re.compile(r"^Not set \(")).click()
    expect(page).to_have_url(re.compile("status=unset"))
    first = page.locator("tbody.secret th.secret-name").first.inner_text().replace("\u200b", "")
    edit_button(page, first).click()
    editor(page, first).get_by_label("Value", exact=True).fill("a-value")
    editor(page, first).get_by_role("button", name="Save").click()
    expect(feedback(page, first)).to_have_text(f"Saved {first}: version 1.")
    expect(page.locator("#secrets-count")).to_contain_text("with status “Not set”")
    assert_tallies_survive_a_reload(page, server, "a save in a filtered list")


def test_escape_closes_what_a_row_opened_and_focus_goes_back(page, context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    seed(context, server, CHECKED, "alpha-for-the-test-button")
    open_secrets(page, server)
    name = CHECKED
    body = row(page, name)

    # The editor
    edit = edit_button(page, name)
    edit.click()
    value = editor(page, name).get_by_label("New value")
    expect(value).to_be_focused()
    check_state(page, "glance-editor", width)
    page.keyboard.press("Escape")
    expect(editor(page, name)).to_have_count(0)
    expect(edit).to_be_focused()

    # The delete confirmation
    delete_button(page, name).click()
    expect(confirmation(page, name).get_by_role("button", name=f"Delete {name}")).to_be_focused()
    check_state(page, "glance-delete-confirmation", width)
    page.keyboard.press("Escape")
    expect(confirmation(page, name)).to_have_count(0)
    expect(delete_button(page, name)).to_be_focused()

    # The history: opening it brings focus to its heading
    history_button(page, name).click()
    heading = history_row(page, name).get_by_role("heading", name=f"History of {name}")
    expect(heading).to_be_focused()
    check_state(page, "glance-history", width)
    page.keyboard.press("Escape")
    expect(history_row(page, name)).to_have_count(0)
    expect(history_button(page, name)).to_be_focused()
    expect(history_button(page, name)).to_have_attribute("aria-expanded", "false")

    # A restore's confirmation inside the history closes first, then the history
    history_button(page, HISTORY_NAME).click()
    restore = history_row(page, HISTORY_NAME).get_by_role("button", name="Restore version 1")
    restore.click()
    expect(history_row(page, HISTORY_NAME).locator("form.secret-confirm")).to_be_visible()
    page.keyboard.press("Escape")
    expect(history_row(page, HISTORY_NAME).locator("form.secret-confirm")).to_have_count(0)
    expect(restore).to_be_focused()
    page.keyboard.press("Escape")
    expect(history_row(page, HISTORY_NAME)).to_have_count(0)
    expect(history_button(page, HISTORY_NAME)).to_be_focused()

    # A Test result spans the row; Escape closes it, focus back on Test
    test = body.get_by_role("button", name=f"Test {name}")
    test.click()
    result = feedback(page, name)
    expect(result).to_have_text(f"Test of {name}: ✓ Alpha accepted the key")
    expect(test).to_be_focused()
    row_box, result_box = body.locator("tr.secret-about").bounding_box(), result.bounding_box()
    assert result_box["width"] >= row_box["width"] - 2, (
        f"the Test result is {result_box['width']:.0f}px wide in a {row_box['width']:.0f}px row"
    )
    check_state(page, "glance-test-result", width)
    page.keyboard.press("Escape")
    expect(result).to_be_hidden()
    expect(test).to_be_focused()


def test_one_line_per_secret_and_fifteen_in_view(page, context, start_datasette, width):
    """At 1280 px a secret is one line (and a muted one under it); on a phone, a card
    that shows its primary action and fits the screen."""
    scale_page(page, context, start_datasette)
    if width < 576:
        check_state(page, "glance-cards", width)
        for card in page.locator("tbody.secret").all()[:8]:
            assert card.bounding_box()["width"] <= VIEWPORTS[width]["width"]
        expect(row(page, OBTAIN_NAME).locator(".secret-primary")).to_be_visible()
        return
    check_state(page, "glance-list", width)
    heights = page.locator("tbody.secret > tr:first-child").evaluate_all(
        """rows => rows.map(row => [
            row.querySelector('th').innerText.replace(/\\u200b/g, ''),
            row.getBoundingClientRect().height,
            [...row.querySelectorAll('td.secret-actions button, td.secret-actions a')]
                .map(control => control.getBoundingClientRect().top),
        ])"""
    )
    line = min(height for _, height, _ in heights)
    for name, height, tops in heights:
        assert max(tops) - min(tops) < 4 if tops else True, f"the actions of {name} wrap"
        if name != LONG_NAME:  # a 72-character name wraps at its underscores
            assert height <= line + 2, f"the row of {name} is {height:.0f}px high, not one line ({line:.0f}px)"
    top = page.locator("form.secrets-filter").bounding_box()
    below = top["y"] + top["height"]
    bottoms = page.locator("tbody.secret").evaluate_all("bodies => bodies.map(b => b.getBoundingClientRect().bottom)")
    fitting = sum(1 for bottom in bottoms if bottom <= below + 900)
    assert fitting >= 15, f"{fitting} secrets fit in the 900px below the filter"


def test_a_row_at_a_glance(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    # One primary action, the one the state calls for
    for name, primary in ((OBTAIN_NAME, f"Set {OBTAIN_NAME}"), ("BETA_TOKEN", "Edit BETA_TOKEN"), (DELETED, f"Restore {DELETED}")):
        expect(row(page, name).locator("td.secret-actions .secret-primary")).to_have_accessible_name(primary)
    expect(row(page, ORPHAN).locator(".secret-primary")).to_have_count(0)
    expect(row(page, ORPHAN).locator("tr.secret-about")).to_have_text(
        "No longer used: No plugin registers this name any more; it can only be deleted."
    )
    # The obtain link of a secret without a value shows
    expect(row(page, OBTAIN_NAME).get_by_role("link", name=re.compile("^Get a Maps key"))).to_be_visible()
    # The environment variable's name: at most two lines in the value cell, whole in the row's details
    env = row(page, ENV_NAME).locator("td.secret-value")
    expect(env).to_contain_text("Set by environment")
    assert env.bounding_box()["height"] < 3 * 22, "the variable's name wraps over three lines"
    expect(row(page, ENV_NAME).locator("tr.secret-about")).to_contain_text(f"Value from DATASETTE_SECRETS_{ENV_NAME}")

    # The editor comes into view with Save, and its value can be shown before saving
    last = page.locator("tbody.secret").last
    name = last.locator("th").inner_text().replace("\u200b", "")
    page.evaluate("window.scrollTo(0, 0)")
    edit_button(page, name).click()
    form = editor(page, name)
    save = form.get_by_role("button", name="Save")
    page.wait_for_function(
        "e => { const b = e.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }",
        arg=save.element_handle(),
    )
    field = form.get_by_label("Value", exact=True)
    expect(field).to_have_value("")
    field.fill("typed-to-check")
    show = form.get_by_role("button", name="Show the value")
    show.click()
    expect(field).to_have_attribute("type", "text")
    check_state(page, "glance-editor-shown", width)
    form.get_by_role("button", name="Hide the value").click()
    expect(field).to_have_attribute("type", "password")
    save.click()
    # In view at the row: said there, and the notice only tells screen readers
    expect(feedback(page, name)).to_have_text(f"Saved {name}: version 1.")
    expect(status(page)).to_have_text(f"Saved {name}: version 1.")
    assert status(page).bounding_box()["height"] <= 1, "the notice repeats a message already in view"

    # Without JavaScript: Set is a plain URL, no stray "?"
    with no_javascript(new_context, server) as nojs:
        nojs.goto(server.path("/-/secrets"))
        edit_button(nojs, OBTAIN_NAME).click()
        expect(nojs).to_have_url(server.path(f"/-/secrets/{OBTAIN_NAME}"))
        check_state(nojs, "glance-nojs-set", width, axe=False)


def test_the_import_preview_leads_with_its_primary_action(page, context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    page.goto(server.path("/-/secrets/-/import"))
    page.get_by_label(".env text").fill("ALPHA_API_KEY=alpha-imported\nBETA_TOKEN=beta-imported\n")
    page.get_by_role("button", name="Preview").click()
    store = page.get_by_role("button", name="Store the chosen secrets")
    expect(store).to_be_visible()
    assert "secret-primary" in store.get_attribute("class")
    table, caption = page.locator("table.secrets-import-table"), page.locator("table.secrets-import-table caption")
    assert abs(table.bounding_box()["x"] - caption.bounding_box()["x"]) < 2, "the caption lines up with the table"
    check_state(page, "glance-import-preview", width)
