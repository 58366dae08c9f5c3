"""Issue 21's row states, in a real browser with the mouse and the keyboard: one
row of each state (row_states.py: not set, set, set by its variable, set by a
file, due for rotation, cannot be read, shadowed, no longer used) and an own
value on My secrets, at 1280 and 375 px. In each, every visible button's text
stands out from its background (WCAG AA, hovered too), axe finds nothing
(violations, and contrast it could not decide), and a screenshot is saved
(screenshots/row-states-*.png).

What each state must show: a value that cannot be read carries a chip and
offers no Reveal, Copy or Test; a value set by the environment has no filled
main action but a quiet "Store a fallback value"; a due row keeps its Reveal
and Copy and its "by whom" in view (the badge sits with the age, in the one
"Updated" cell: "v1 · 3 months ago by ..."); and every action sits in a fixed
slot, so the buttons line up row to row.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from helpers import (
    UTC_TITLE,
    assert_accessible,
    assert_buttons_readable,
    assert_no_horizontal_overflow,
    assert_no_page_load,
    feedback,
    is_focused,
    open_secrets,
    row,
    sign_in,
    snap,
    unfold,
    value_cell,
    value_input,
)
from row_states import DUE_ACTOR, PERSONAL, STATES, states_server, store_states
from scale_helpers import assert_in_view, assert_not_covered

SIZES = {1280: 900, 375: 800}
WIDTHS = pytest.mark.parametrize("width", list(SIZES), ids=lambda width: f"{width}px")
CHIP = "Can't read: saved with a different key"
OUTSIDE = ("set by env", "set by file", "shadowed")  # a value from outside the store


def states_page(page: Page, context, start_datasette, tmp_path, width):
    page.set_viewport_size({"width": width, "height": SIZES[width]})
    server = states_server(start_datasette, tmp_path)
    store_states(context, server)
    open_secrets(page, server)
    return server


def updated(page: Page, name) -> Locator:
    return row(page, name).locator("td.secret-updated")


def actions(page: Page, name) -> Locator:
    return row(page, name).locator("td.secret-actions")


def fallback(page: Page, name) -> Locator:
    """A value from outside's quiet action (on a phone, its card unfolded first: helpers.unfold)."""
    unfold(page, name)
    return actions(page, name).get_by_role("link", name=f"Store a fallback value for {name}", exact=True)


def names_of(controls: Locator):
    """The accessible names of these controls, those shown."""
    return controls.evaluate_all(
        "els => els.filter(e => e.checkVisibility()).map(e => e.getAttribute('aria-label') || e.innerText.trim())"
    )


def labels(locator: Locator):
    """The accessible names of the buttons and links shown in ``locator``."""
    return names_of(locator.locator("button, a"))


def check(page: Page, state, width, hover=None):
    """Screenshot, then every button readable (hovered too, inside ``hover``), then axe."""
    page.mouse.move(0, 0)
    snap(page, f"row-states-{state}-{width}")
    assert_no_horizontal_overflow(page, width)
    assert_buttons_readable(page, f"{state} ({width}px)", hover=hover)
    assert_accessible(page, f"{state} ({width}px)")


@WIDTHS
def test_each_row_state_says_what_it_is_and_offers_only_what_it_allows(page, context, start_datasette, tmp_path, width):
    states_page(page, context, start_datasette, tmp_path, width)
    names = STATES
    expect(value_cell(page, names["not set"])).to_contain_text("Not set")
    expect(value_cell(page, names["set by env"]).locator(".secret-badge")).to_have_text("Set by environment")
    expect(value_cell(page, names["shadowed"]).locator(".secret-badge")).to_have_text("Set by environment")
    expect(value_cell(page, names["shadowed"])).to_contain_text("Shadows stored version 1.")
    expect(value_cell(page, names["set by file"]).locator(".secret-badge")).to_have_text("Set by file")
    chip = value_cell(page, names["cannot be read"]).locator(".secret-unreadable")
    expect(chip).to_have_text(CHIP)
    expect(chip).to_have_attribute("title", re.compile(r"^Could not decrypt secret 'EXTRA_002' \(key id '[^']+'\)"))
    due = updated(page, names["due"])
    expect(due.locator(".secret-due")).to_have_text("Due for rotation")
    expect(due).to_contain_text(f"v1 · 3 months ago by {DUE_ACTOR}")
    expect(due.locator("time")).to_have_attribute("title", UTC_TITLE)
    expect(updated(page, names["set"])).to_have_text(re.compile(r"^\s*v1 · just now by root\s*$"))

    # One filled main action only where the state calls for one; none for a value from outside.
    primary = {state: names_of(row(page, name).locator(".secret-primary")) for state, name in names.items()}
    assert primary == {
        "not set": [f"Set {names['not set']}"],
        "set": [f"Edit {names['set']}"],
        "set by env": [],
        "set by file": [],
        "due": [f"Edit {names['due']}"],
        "cannot be read": [f"Edit {names['cannot be read']}"],  # a new value under this key mends it
        "shadowed": [],
        "no longer used": [],
    }, primary
    for state in OUTSIDE:
        expect(fallback(page, names[state])).to_have_text("Store a fallback value")
    # Nothing that reads a value the keys cannot read.
    unreadable = labels(row(page, names["cannot be read"]))
    assert not [label for label in unreadable if label.split()[0] in ("Reveal", "Copy", "Test")], unreadable

    for state, name in names.items():
        check(page, f"list-{state.replace(' ', '-')}", width, hover=row(page, name))


@WIDTHS
def test_my_secrets_own_value_reads_like_a_row_of_the_list(page, context, start_datasette, tmp_path, width):
    server = states_page(page, context, start_datasette, tmp_path, width)
    sign_in(context, server, "alice")
    page.goto(server.path("/-/secrets/-/mine"))
    own = page.locator(f"#mine-{PERSONAL}")
    expect(own.locator("td.secret-updated")).to_have_text(re.compile(r"^\s*v1 · just now\s*$"))
    expect(own.locator(".secret-primary")).to_have_text("Edit")
    if width == 1280:  # a phone card keeps some of them for a tap (see test_glance)
        assert [label.rsplit(" ", 1)[0] for label in labels(own.locator("td.secret-actions, td.secret-value"))] == [
            "Reveal your", "Copy your", "Edit your", "History of your", "Delete your", "Test your"
        ]
    check(page, "mine", width, hover=own)


@WIDTHS
def test_a_due_row_keeps_its_buttons_and_who_in_view_and_clickable_with_the_mouse(
    page, context, start_datasette, tmp_path, width
):
    states_page(page, context, start_datasette, tmp_path, width)
    name = STATES["due"]
    unfold(page, name)  # on a phone, the card's value and times come with More
    cell = value_cell(page, name)
    for verb in ("Reveal", "Copy"):
        button = cell.get_by_role("button", name=f"{verb} {name}", exact=True)
        button.scroll_into_view_if_needed()
        assert_in_view(page, button, f"{verb} of the due row")
        assert button.evaluate("b => b.getBoundingClientRect().right <= window.innerWidth"), f"{verb} is off the screen"
        assert_not_covered(button, f"{verb} of the due row")
        # Inside its cell, not cut off by it.
        inside = button.evaluate(
            "b => { const c = b.closest('td').getBoundingClientRect(), r = b.getBoundingClientRect();"
            " return r.left >= c.left && r.right <= c.right; }"
        )
        assert inside, f"{verb} sticks out of the value cell, which cuts it off"
    who = updated(page, name).locator(".secret-actor")
    expect(who).to_have_text(DUE_ACTOR)
    assert who.evaluate(
        "e => { const c = e.closest('td').getBoundingClientRect(), r = e.getBoundingClientRect();"
        " return r.right <= c.right + 0.5 && r.bottom <= c.bottom + 0.5; }"
    ), "the due row's 'by whom' is cut off"
    # The mouse: Reveal shows the value, Hide masks it again.
    cell.get_by_role("button", name=f"Reveal {name}", exact=True).click()
    expect(page.locator(f"code#revealed-{name}")).to_have_text("alpha-rotate-me-0123456789")
    check(page, "due-revealed", width, hover=row(page, name))
    row(page, name).get_by_role("button", name=f"Hide {name}", exact=True).click()
    expect(page.locator(f"code#revealed-{name}")).to_have_count(0)
    assert_no_page_load(page)


def test_every_action_sits_in_a_fixed_slot(page, context, start_datasette, tmp_path):
    states_page(page, context, start_datasette, tmp_path, 1280)
    slots = page.evaluate(
        """() => {
            const slot = {};
            for (const b of document.querySelectorAll("td.secret-actions a, td.secret-actions button")) {
                if (!b.checkVisibility()) continue;
                const kind = b.classList.contains("secret-primary") ? "main"
                    : b.classList.contains("secret-fallback") ? "fallback"
                    : (b.getAttribute("aria-label") || "").split(" ")[0];
                (slot[kind] = slot[kind] || new Set()).add(Math.round(b.getBoundingClientRect().left));
            }
            return Object.fromEntries(Object.entries(slot).map(([k, v]) => [k, [...v]]));
        }"""
    )
    assert set(slots) == {"main", "fallback", "History", "Delete", "Test"}, slots
    assert all(len(lefts) == 1 for lefts in slots.values()), f"actions out of line, by left edge: {slots}"
    assert slots["main"] == slots["fallback"]
    assert slots["main"][0] < slots["History"][0] < slots["Delete"][0] < slots["Test"][0]


def test_a_fallback_is_stored_with_the_mouse_and_opened_with_the_keyboard(page, context, start_datasette, tmp_path):
    states_page(page, context, start_datasette, tmp_path, 1280)
    name = STATES["set by env"]
    fallback(page, name).click()  # the mouse
    editor = row(page, name).locator("form.secret-form")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("aria-label", f"Store a fallback value for {name}")
    expect(editor.locator("p.secret-shadowed")).to_contain_text(
        f"What you store here is a fallback: plugins get it once DATASETTE_SECRETS_{name} is unset."
    )
    check(page, "fallback-editor", 1280, hover=editor)
    value_input(page, name).fill("the-fallback-value")
    editor.get_by_role("button", name="Save").click()
    expect(feedback(page, name)).to_have_text(re.compile(rf"Saved {name}: version 1\."))
    # Now shadowed: still no filled main action, and the fallback offered again.
    expect(value_cell(page, name)).to_contain_text("Shadows stored version 1.")
    expect(row(page, name).locator(".secret-primary")).to_have_count(0)
    expect(fallback(page, name)).to_be_visible()
    assert_no_page_load(page)

    # The keyboard: Enter on the file row's fallback opens its editor, Escape closes it,
    # focus back on the link.
    filed = STATES["set by file"]
    fallback(page, filed).focus()
    page.keyboard.press("Enter")
    expect(value_input(page, filed)).to_be_focused()
    page.keyboard.press("Escape")
    expect(row(page, filed).locator("form.secret-form")).to_have_count(0)
    expect(fallback(page, filed)).to_be_focused()
    assert is_focused(fallback(page, filed))


def test_a_value_that_cannot_be_read_is_mended_by_storing_a_new_one(page, context, start_datasette, tmp_path):
    states_page(page, context, start_datasette, tmp_path, 1280)
    name = STATES["cannot be read"]
    row(page, name).get_by_role("link", name=f"Edit {name}", exact=True).click()
    editor = row(page, name).locator("form.secret-form")
    value_input(page, name).fill("readable-again-0123456789")
    editor.get_by_role("button", name="Save").click()
    expect(feedback(page, name)).to_have_text(re.compile(rf"Saved {name}: version 2\."))
    expect(value_cell(page, name).locator(".secret-unreadable")).to_have_count(0)
    expect(value_cell(page, name).get_by_role("button", name=f"Reveal {name}", exact=True)).to_be_visible()
    assert_no_page_load(page)
