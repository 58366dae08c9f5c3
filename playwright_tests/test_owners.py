"""Issue 21, must fix 2: the owners page of a personal secret asks before it deletes
someone's own value, names them and what their plugins get next, and says what
happened; its table is full width and its caption one line, at 1280 and 375 px.

Driven with the mouse, with the keyboard, and without JavaScript. Screenshots:
screenshots/owners-STATE-WIDTH.png.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from helpers import (
    assert_accessible,
    assert_buttons_readable,
    assert_no_horizontal_overflow,
    assert_no_page_load,
    mark,
    press_until_focused,
    sign_in,
    snap,
)
import scale_helpers
from scale_helpers import VIEWPORTS, no_javascript

# The shared fixtures (scale_helpers): every test here runs at 1280 and 375 px.
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args

NAME = "AI_PERSONAL_KEY"  # plugins/personal_secrets.py; its shared value comes from the environment
SHARED_KEY = "sk-shared-site-key-0000"  # DATASETTE_SECRETS_AI_PERSONAL_KEY (conftest)
OWN_VALUES = {"alice": "sk-alice-owners-4410", "bob": "sk-bob-owners-8820"}
ASKED = (
    f"Delete alice's own value of {NAME}? alice's plugins then use the shared value."
    " It is gone for good: only alice can store a new one."
)
DONE = f"Deleted alice's own value of {NAME}. alice's plugins now use the shared value."


@pytest.fixture
def owners_server(start_datasette, new_context):
    server = start_datasette(personal=True)
    for actor, value in OWN_VALUES.items():
        context = new_context()
        sign_in(context, server, actor)
        saved = context.request.post(server.path(f"/-/secrets/-/mine/{NAME}"), form={"secret": value}, max_redirects=0)
        assert saved.status == 302, saved.text()
        context.close()
    return server


def owners_url(server, query=""):
    return server.path(f"/-/secrets/{NAME}/owners{query}")


def open_owners(page: Page, server):
    page.goto(owners_url(server))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Own values of {NAME}")
    page.wait_for_load_state("load")
    mark(page)


def owner_row(page: Page, actor):
    return page.locator(f"tbody#owner-{actor}")


def delete_button(page: Page, actor):
    return owner_row(page, actor).get_by_role("button", name=f"Delete {actor}'s own value", exact=True)


def confirmation(page: Page, actor):
    return owner_row(page, actor).locator("form.secret-confirm")


def check(page: Page, state, width, hover=None, axe=True):
    snap(page, f"owners-{state}-{width}")
    assert_no_horizontal_overflow(page, VIEWPORTS[width]["width"])
    if axe:
        assert_buttons_readable(page, f"owners {state} ({width}px)", hover=hover)
        assert_accessible(page, f"owners {state} ({width}px)")


def plugin_value_for(page: Page, server):
    page.goto(server.path("/-/test-own-value"))
    return page.locator("body").inner_text().strip()


def assert_full_width_with_a_one_line_caption(page: Page):
    table = page.locator("table.secrets-owners")
    content = page.locator("main.secrets-page").bounding_box()
    box = table.bounding_box()
    assert box["width"] >= content["width"] - 2, (
        f"the table is {box['width']:.0f}px wide in a {content['width']:.0f}px page"
    )
    caption = table.locator("caption")
    line = caption.evaluate("c => parseFloat(getComputedStyle(c).lineHeight) || 1.2 * parseFloat(getComputedStyle(c).fontSize)")
    height = caption.bounding_box()["height"]
    assert height < 2 * line, f"the caption is {height:.0f}px tall, {height / line:.1f} lines"


def test_a_delete_asks_first_names_the_person_and_says_what_happened(page, context, owners_server, width):
    server = owners_server
    sign_in(context, server, "root")
    open_owners(page, server)
    expect(page.locator("table.secrets-owners caption")).to_have_text("2 people have a value of their own")
    assert_full_width_with_a_one_line_caption(page)
    check(page, "list", width, hover=owner_row(page, "alice"))

    # The mouse: Delete only asks
    delete_button(page, "alice").click()
    expect(confirmation(page, "alice").locator("p")).to_have_text(ASKED)
    confirm = confirmation(page, "alice").get_by_role("button", name="Delete alice's value", exact=True)
    expect(confirm).to_be_focused()
    expect(confirmation(page, "bob")).to_have_count(0)
    assert_no_page_load(page)
    check(page, "confirmation", width, hover=confirmation(page, "alice"))

    # Cancel: the row as it was, focus back on its Delete; nothing deleted
    confirmation(page, "alice").get_by_role("link", name="Cancel").click()
    expect(confirmation(page, "alice")).to_have_count(0)
    expect(delete_button(page, "alice")).to_be_focused()
    assert_no_page_load(page)

    # Asked again and confirmed: the result in the row's place, the count follows,
    # and the other rows stay where they were
    bob_at = owner_row(page, "bob").locator("td").first.bounding_box()
    delete_button(page, "alice").click()
    confirmation(page, "alice").get_by_role("button", name="Delete alice's value", exact=True).click()
    done = owner_row(page, "alice").get_by_role("status")
    expect(done).to_have_text(DONE)
    expect(done).to_be_focused()
    expect(page.locator("table.secrets-owners caption")).to_have_text("1 person has a value of their own")
    expect(delete_button(page, "bob")).to_be_visible()
    moved = owner_row(page, "bob").locator("td").first.bounding_box()
    assert abs(moved["x"] - bob_at["x"]) < 0.5, f"bob's row moved from x={bob_at['x']} to x={moved['x']}"
    assert_no_page_load(page)
    check(page, "deleted", width)

    # A reload says the same as the page did in place
    page.reload()
    expect(page.locator("table.secrets-owners caption")).to_have_text("1 person has a value of their own")
    expect(owner_row(page, "alice")).to_have_count(0)

    alice = context.browser.new_context(viewport=VIEWPORTS[width])
    sign_in(alice, server, "alice")
    assert plugin_value_for(alice.new_page(), server) == SHARED_KEY
    alice.close()


def test_the_keyboard_asks_and_escape_takes_it_back(page, context, owners_server, width):
    server = owners_server
    sign_in(context, server, "root")
    open_owners(page, server)
    press_until_focused(page, delete_button(page, "bob"))
    page.keyboard.press("Enter")
    confirm = confirmation(page, "bob").get_by_role("button", name="Delete bob's value", exact=True)
    expect(confirm).to_be_focused()
    page.keyboard.press("Escape")
    expect(confirmation(page, "bob")).to_have_count(0)
    expect(delete_button(page, "bob")).to_be_focused()
    page.keyboard.press("Enter")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(owner_row(page, "bob").get_by_role("status")).to_have_text(re.compile(r"^Deleted bob's own value"))
    expect(delete_button(page, "alice")).to_be_visible()


def test_without_javascript_the_confirmation_is_a_page_and_the_message_follows(new_context, owners_server, width):
    server = owners_server
    with no_javascript(new_context, server) as nojs:
        nojs.set_viewport_size(VIEWPORTS[width])
        nojs.goto(owners_url(server))
        delete_button(nojs, "alice").click()
        expect(nojs).to_have_url(owners_url(server, "?delete=alice"))
        expect(confirmation(nojs, "alice").locator("p")).to_have_text(ASKED)
        check(nojs, "nojs-confirmation", width, axe=False)

        confirmation(nojs, "alice").get_by_role("link", name="Cancel").click()
        expect(nojs).to_have_url(owners_url(server) + "#owner-alice")
        expect(confirmation(nojs, "alice")).to_have_count(0)

        delete_button(nojs, "alice").click()
        confirmation(nojs, "alice").get_by_role("button", name="Delete alice's value", exact=True).click()
        expect(nojs).to_have_url(owners_url(server))
        expect(nojs.get_by_role("status")).to_have_text(DONE)
        expect(owner_row(nojs, "alice")).to_have_count(0)
        expect(nojs.locator("table.secrets-owners caption")).to_have_text("1 person has a value of their own")
        check(nojs, "nojs-deleted", width, axe=False)
        # Said once
        nojs.reload()
        expect(nojs.get_by_text(DONE)).to_have_count(0)
