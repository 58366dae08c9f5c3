"""Issue 16, "An admin page that reads at a glance": the 40-secret list at 1280x900
and 375x800. Counts stay true after a change made in place; Escape closes what a
row opened and gives focus back; one line per secret at 1280 px; a Test result
spans its row; one primary action per row.

Issue 21, "Forty secrets do not read at a glance": the whole fixture on one page, 18
secrets on the first screen at 1280 px and 3 cards at 375 px, what needs someone first,
phone cards that unfold on a tap, and no status link with a count of 0.

Each state is screenshotted (screenshots/glance-STATE-WIDTH.png) and checked with axe-core.
"""

import re
import sqlite3
import time

from playwright.sync_api import Locator, Page, expect

from datasette_secrets.crypto import Key, generate_key
from helpers import (
    assert_buttons_readable, edit_button, feedback, history_button, open_secrets, row, seed, snap, status, unfold,
)
import scale_helpers
from scale_helpers import (
    DELETED,
    ENV_NAME,
    HISTORY_NAME,
    LISTED,
    LONG_NAME,
    OBTAIN_NAME,
    ORPHAN,
    REGISTERED,
    VALUES,
    VIEWPORTS,
    check_state,
    confirmation,
    delete_button,
    editor,
    history_row,
    no_javascript,
    scale_list,
    scale_page,
)

# The shared fixtures (scale_helpers), so every test here runs at 1280 and 375 px too.
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args

CHECKED = "ALPHA_API_KEY"  # the example plugin's check passes for values starting alpha-
UNREADABLE = "AIRTABLE_PAT"  # given a row stored under a key the server does not have


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


def test_one_line_per_secret_or_a_card(page, context, start_datasette, width):
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
            [...row.querySelectorAll('td.secret-actions button:not(.secret-more), td.secret-actions a')]
                .map(control => control.getBoundingClientRect().top),
        ])"""
    )
    line = min(height for _, height, _ in heights)
    for name, height, tops in heights:
        assert max(tops) - min(tops) < 4 if tops else True, f"the actions of {name} wrap"
        if name != LONG_NAME:  # a 72-character name wraps at its underscores
            assert height <= line + 2, f"the row of {name} is {height:.0f}px high, not one line ({line:.0f}px)"


# Issue 21, must fix 3: forty secrets at a glance


def first_screen(page: Page):
    """The names of the secrets wholly in the window (both lines of a row, a whole card)
    with the page scrolled to its top."""
    page.evaluate("window.scrollTo(0, 0)")
    return page.locator("tbody.secret").evaluate_all(
        """bodies => bodies.filter(b => b.getBoundingClientRect().bottom <= innerHeight)
            .map(b => b.querySelector('th').innerText.replace(/\\u200b/g, ''))"""
    )


def box(locator: Locator):
    return locator.bounding_box()


def state_word(page: Page, name):
    """The state a phone card shows after the secret's name."""
    return row(page, name).locator("th.secret-name").evaluate(
        "th => getComputedStyle(th, '::after').content.replace(/^\"|\"$/g, '')"
    )


def more(page: Page, name) -> Locator:
    return row(page, name).get_by_role("button", name=f"More about {name}", exact=True)


def status_links(page: Page):
    """The status links a person sees, as they read."""
    nav = page.get_by_role("navigation", name="Show secrets by status")
    return [re.sub(r"\s+", " ", link.inner_text()) for link in nav.get_by_role("link").filter(visible=True).all()]


def test_the_whole_list_on_one_page_and_its_first_screen(page, context, start_datasette, width):
    """The 40-secret fixture (LISTED) on one page. From the top of the page: at 1280x900
    at least 18 secrets under a header of one line (and the status links' line); at
    375x800 at least 3 cards, the filter and its button on one row, the status links one
    row that scrolls sideways. Secrets that are not set read quieter. No status link with a
    count of 0, also after a change in place."""
    scale_page(page, context, start_datasette)
    expect(page.locator("tbody.secret")).to_have_count(len(LISTED))
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    snap(page, f"glance-first-screen-{width}", full_page=False)
    check_state(page, "glance-first-screen", width)
    assert_buttons_readable(page, f"the first screen ({width}px)", hover=row(page, "ALPHA_API_KEY"))
    shown = first_screen(page)
    head = box(page.locator(".secrets-head"))
    statuses = page.get_by_role("navigation", name="Show secrets by status")
    search, button = page.get_by_role("searchbox", name="Filter"), page.get_by_role("button", name="Filter")
    if width >= 576:
        assert len(shown) >= 18, f"{len(shown)} secrets on the first screen at 1280x900: {shown}"
        assert head["height"] <= 36, f"the header is {head['height']:.0f}px high, not one line"
        assert box(statuses)["height"] <= 30, "the status links wrap"
        expect(more(page, "ALPHA_API_KEY")).to_be_hidden()  # the phone's toggle
    else:
        assert len(shown) >= 3, f"{len(shown)} cards on the first screen at 375x800: {shown}"
        assert abs(box(search)["y"] - box(button)["y"]) < 4, "the filter's button is not beside its field"
        assert box(button)["x"] + box(button)["width"] <= 375
        assert box(statuses)["height"] <= 30, "the status links are more than one row"
        assert statuses.evaluate("nav => nav.scrollWidth > nav.clientWidth"), "the status links do not scroll"
        # The last one scrolls into reach, and the mouse follows it.
        statuses.evaluate("nav => nav.scrollLeft = nav.scrollWidth")
        last = statuses.get_by_role("link", name="No longer used (1)")
        last.click()
        expect(page).to_have_url(re.compile(r"status=orphan"))
        expect(page.locator("tbody.secret")).to_have_count(1)
        statuses.get_by_role("link", name=f"All ({len(LISTED)})").click()
        expect(page.locator("tbody.secret")).to_have_count(len(LISTED))

    # A secret that is not set reads quieter than one plugins use: its name not bold, its Set an
    # outline (filled under the mouse, as any primary action), the set one's Edit filled.
    def looks(name):
        return row(page, name).evaluate(
            """body => [getComputedStyle(body.querySelector('th code')).fontWeight,
                        getComputedStyle(body.querySelector('.secret-primary')).backgroundColor]"""
        )

    quiet, loud = looks(OBTAIN_NAME), looks("ALPHA_API_KEY")
    assert quiet == ["400", "rgb(255, 255, 255)"], quiet
    assert loud == ["700", "rgb(0, 88, 184)"], loud
    edit_button(page, OBTAIN_NAME).hover()
    expect(edit_button(page, OBTAIN_NAME)).to_have_css("background-color", "rgb(0, 68, 143)")

    # Every status link has secrets; a count that falls to 0 in place takes its link away.
    assert not [link for link in status_links(page) if "(0)" in link], status_links(page)
    assert "Deleted (1)" in status_links(page)
    row(page, DELETED).get_by_role("button", name=f"Restore {DELETED}").click()
    expect(feedback(page, DELETED)).to_have_text(f"Restored {DELETED}.")
    expect(statuses.get_by_role("link", name=re.compile("^Deleted"))).to_be_hidden()
    assert "(0)" not in " ".join(status_links(page))
    if width < 576:
        more(page, "BETA_TOKEN").click()
    delete_button(page, "BETA_TOKEN").click()
    confirmation(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(statuses.get_by_role("link", name="Deleted (1)")).to_be_visible()
    check_state(page, "glance-status-links-after-changes", width)


def test_what_needs_someone_comes_first(page, context, start_datasette, width):
    """Due for rotation, then cannot be read, then shadowed by a variable, then no longer
    used; then the values plugins get; then those with none (not set, deleted): by name
    within each, on a page load and after a change."""
    server = start_datasette(scale=True, settings={"max_age_days": 30})
    scale_list(context, server)
    seed(context, server, ENV_NAME, "a-fallback-value")  # its variable wins: shadowed
    other = Key(generate_key())
    conn = sqlite3.connect(server.internal)
    with conn:
        conn.execute("update datasette_secrets set created_at = datetime('now', '-31 days') where name = 'DB'")
        conn.execute(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name, note,"
            " created_at, updated_at) values (?, 1, ?, ?, '', datetime('now'), datetime('now'))",
            [UNREADABLE, other.encrypt(UNREADABLE, 1, "under-another-key"), other.id],
        )
    conn.close()
    set_names = sorted(name for name in VALUES if name not in (DELETED, "DB"))
    none = sorted([DELETED] + [name for name in REGISTERED if name not in VALUES and name not in (ENV_NAME, UNREADABLE)])
    expected = ["DB", UNREADABLE, ENV_NAME, ORPHAN] + set_names + none

    def order():
        return page.locator("tbody.secret th.secret-name").evaluate_all(
            "cells => cells.map(cell => cell.innerText.replace(/\\u200b/g, ''))"
        )

    # The server notices writes from another connection within a second.
    deadline = time.monotonic() + 10
    open_secrets(page, server)
    while order()[:2] != expected[:2]:
        assert time.monotonic() < deadline, f"the list never put the due and unreadable rows first: {order()[:6]}"
        time.sleep(0.2)
        open_secrets(page, server)
    assert order() == expected
    assert first_screen(page)[:4] == expected[:4]
    if width < 576:
        assert [state_word(page, name) for name in ("DB", UNREADABLE, ENV_NAME, ORPHAN, "ALPHA_API_KEY", OBTAIN_NAME, DELETED)] == [
            "Due for rotation", "Can't read", "Set by environment", "No longer used", "Set", "Not set", "Deleted",
        ]
    snap(page, f"glance-attention-first-{width}", full_page=False)
    check_state(page, "glance-attention-first", width)

    # A new value for DB is not due any more: it joins the values in use, by name.
    edit_button(page, "DB").click()
    editor(page, "DB").get_by_label("New value").fill("postgres://reader:new@db.internal:5432/app")
    editor(page, "DB").get_by_role("button", name="Save").click()
    expect(feedback(page, "DB")).to_have_text("Saved DB: version 2.")
    page.reload()
    assert order() == [UNREADABLE, ENV_NAME, ORPHAN] + sorted(set_names + ["DB"]) + none


def test_phone_cards_open_on_a_tap(page, context, new_context, start_datasette, width):
    """At 375 px a card shows the name, its state and its main action on one line and one
    muted line under them; a tap (the mouse, anywhere on that line, or More) shows the rest
    and a second tap folds it; Enter and Space do the same from the keyboard. At 1280 px
    there is nothing to unfold: every cell shows, with no More."""
    server = scale_page(page, context, start_datasette)
    name = CHECKED
    card = row(page, name)
    value = card.locator("td.secret-value")
    history = card.get_by_role("button", name=f"History of {name}", exact=True)  # not unfolded (helpers.unfold)
    if width >= 576:
        expect(more(page, name)).to_be_hidden()
        expect(value).to_be_visible()
        expect(history).to_be_visible()
        return

    # Folded: one line (name, state, Edit, More) and one muted line of what it is for
    first = {part: box(locator) for part, locator in {
        "name": card.locator("th.secret-name"),
        "edit": card.locator("td.secret-actions .secret-primary"),
        "more": more(page, name),
    }.items()}
    middles = [b["y"] + b["height"] / 2 for b in first.values()]
    assert max(middles) - min(middles) < 6, f"the name, Edit and More are not on one line: {first}"
    assert state_word(page, name) == "Set"
    about = card.locator("tr.secret-about")
    tops = card.locator("tr.secret-about .secret-description").evaluate(
        "e => [...e.getClientRects()].map(rect => Math.round(rect.top))"
    )
    assert len(set(tops)) == 1, f"what the secret is for takes {len(set(tops))} lines"
    assert box(about)["height"] <= 30, "the muted line under the card's first line wraps"
    assert card.locator("tr.secret-about .secret-description").evaluate("e => getComputedStyle(e).color") != "rgb(0, 0, 0)"
    expect(value).to_be_hidden()
    expect(history).to_be_hidden()
    expect(card.get_by_text("Registered by example_secrets.py")).to_be_hidden()
    obtain = card.get_by_role("link", name=re.compile("^Get an Alpha key"))
    expect(obtain).to_be_visible()  # where to obtain a value: always shown
    assert abs(box(obtain)["y"] - box(about)["y"]) < 8, "the obtain link is not on the muted line"
    expect(more(page, name)).to_have_attribute("aria-expanded", "false")
    check_state(page, "glance-card-folded", width)
    assert_buttons_readable(page, "a folded card (375px)", hover=card)

    # A tap on the card's first line (its name) unfolds it...
    name_box = first["name"]
    page.mouse.click(name_box["x"] + 10, name_box["y"] + name_box["height"] / 2)
    expect(more(page, name)).to_have_attribute("aria-expanded", "true")
    expect(value).to_be_visible()
    expect(history).to_be_visible()
    expect(card.locator("td.secret-actions").get_by_role("button", name=f"Test {name}")).to_be_visible()
    expect(card.get_by_text("Registered by example_secrets.py")).to_be_visible()
    check_state(page, "glance-card-unfolded", width)
    assert_buttons_readable(page, "an unfolded card (375px)", hover=card)
    # ...and its controls work from there with the mouse
    history.click()
    expect(history_row(page, name)).to_be_visible()
    history.click()
    expect(history_row(page, name)).to_have_count(0)
    # A second tap (on More) folds it
    more(page, name).click()
    expect(more(page, name)).to_have_attribute("aria-expanded", "false")
    expect(value).to_be_hidden()

    # The keyboard: More follows Edit; Enter unfolds, Space folds
    edit_button(page, name).focus()
    page.keyboard.press("Tab")
    expect(more(page, name)).to_be_focused()
    page.keyboard.press("Enter")
    expect(more(page, name)).to_have_attribute("aria-expanded", "true")
    expect(value).to_be_visible()
    page.keyboard.press("Tab")
    expect(history).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(more(page, name)).to_have_attribute("aria-expanded", "false")
    expect(history).to_be_hidden()

    # Each card unfolds on its own tap.
    more(page, "BETA_TOKEN").click()
    expect(row(page, "BETA_TOKEN").locator("td.secret-value")).to_be_visible()
    expect(value).to_be_hidden()

    # Without JavaScript there is nothing to tap: the whole card shows.
    with no_javascript(new_context, server) as nojs:
        nojs.goto(server.path("/-/secrets"))
        expect(nojs.locator(f"#secret-{name} td.secret-value")).to_be_visible()
        expect(nojs.locator(f"#secret-{name}").get_by_role("button", name=f"History of {name}")).to_be_visible()
        expect(nojs.locator(f"#secret-{name} .secret-more")).to_be_hidden()
        check_state(nojs, "glance-card-nojs", width, axe=False)


def test_a_row_at_a_glance(page, context, new_context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    # One primary action, the one the state calls for
    for name, primary in ((OBTAIN_NAME, f"Set {OBTAIN_NAME}"), ("BETA_TOKEN", "Edit BETA_TOKEN"), (DELETED, f"Restore {DELETED}")):
        expect(row(page, name).locator("td.secret-actions .secret-primary")).to_have_accessible_name(primary)
    expect(row(page, ORPHAN).locator(".secret-primary")).to_have_count(0)
    expect(row(page, ORPHAN).locator("tr.secret-about")).to_have_text(
        "No longer used: No plugin registers this name any more; it can only be deleted."
    )
    # The obtain link of a secret without a value shows (on a folded phone card too)
    expect(row(page, OBTAIN_NAME).get_by_role("link", name=re.compile("^Get a Maps key"))).to_be_visible()
    # The environment variable's name: at most two lines in the value cell, whole in the row's details
    unfold(page, ENV_NAME)
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
