"""Personal secrets in the browser: two actors in two browser contexts, and an admin.

Alice stores her own key on My secrets; Bob cannot see or learn it; a plugin
page that calls get_secret gets each one's own value (Bob the site's shared
one); root sees that Alice has one and deletes it, never reading it.
"""

import pytest
from playwright.sync_api import expect

from helpers import assert_accessible, assert_no_horizontal_overflow, sign_in

NAME = "AI_PERSONAL_KEY"
ALICE_KEY = "sk-alice-own-key-7Qz9W"
SHARED_KEY = "sk-shared-site-key-0000"  # DATASETTE_SECRETS_AI_PERSONAL_KEY (conftest)


@pytest.fixture
def personal_server(start_datasette):
    return start_datasette(personal=True)


def actor_page(browser, server, actor_id, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
    sign_in(context, server, actor_id)
    page = context.new_page()
    return page


def open_mine(page, server):
    page.goto(server.path("/-/secrets/-/mine"))
    expect(page.get_by_role("heading", level=1, name="My secrets")).to_be_visible()
    page.wait_for_load_state("load")


def own_value_seen_by_plugin(page, server):
    page.goto(server.path("/-/test-own-value"))
    return page.locator("body").inner_text().strip()


def set_own_value(page, value):
    page.get_by_role("link", name=f"Set your {NAME}").click()
    field = page.get_by_role("form", name=f"Set your {NAME}").get_by_label("Value", exact=True)
    expect(field).to_be_focused()
    field.fill(value)
    field.press("Enter")
    expect(page.get_by_role("cell", name=f"Saved your own {NAME}: version 1.")).to_be_visible()


def test_two_actors_each_get_their_own_value_and_nothing_of_the_other(browser, personal_server):
    server = personal_server
    alice = actor_page(browser, server, "alice")
    bob = actor_page(browser, server, "bob")

    open_mine(alice, server)
    expect(alice.get_by_text("Not set: plugins use the shared value")).to_be_visible()
    set_own_value(alice, ALICE_KEY)
    expect(alice.get_by_role("link", name=f"Edit your {NAME}")).to_be_focused()
    assert ALICE_KEY not in alice.content()

    alice.get_by_role("button", name=f"Reveal your {NAME}").click()
    expect(alice.get_by_text(ALICE_KEY)).to_be_visible()
    alice.get_by_role("button", name=f"Hide your {NAME}").click()
    expect(alice.get_by_text(ALICE_KEY)).to_have_count(0)

    alice.get_by_role("button", name=f"Test your {NAME}").click()
    expect(alice.get_by_role("cell", name=f"Test of your {NAME}: ✓ Starts with sk-")).to_be_visible()

    open_mine(bob, server)
    expect(bob.get_by_text("Not set: plugins use the shared value")).to_be_visible()
    assert ALICE_KEY not in bob.content()
    for action in ("reveal", "copy", "test"):
        response = bob.request.post(server.path(f"/-/secrets/-/mine/{NAME}/{action}"))
        assert response.status == 404
        assert ALICE_KEY not in response.text()

    assert own_value_seen_by_plugin(alice, server) == ALICE_KEY
    assert own_value_seen_by_plugin(bob, server) == SHARED_KEY


def test_an_admin_sees_who_and_deletes_but_never_reads(browser, personal_server):
    server = personal_server
    alice = actor_page(browser, server, "alice")
    open_mine(alice, server)
    set_own_value(alice, ALICE_KEY)

    root = actor_page(browser, server, "root")
    root.goto(server.path(f"/-/secrets/{NAME}/owners"))
    expect(root.get_by_role("heading", level=1)).to_have_text(f"Own values of {NAME}")
    expect(root.get_by_text("1 person has a value of their own")).to_be_visible()
    assert ALICE_KEY not in root.content()
    root.goto(server.path("/-/secrets"))
    assert ALICE_KEY not in root.content()
    audit = root.request.get(server.path("/-/secrets/-/audit.json"))
    assert "personal-set" in audit.text() and ALICE_KEY not in audit.text()

    root.goto(server.path(f"/-/secrets/{NAME}/owners"))
    root.get_by_role("button", name="Delete alice's own value").click()  # asks first (test_owners.py)
    root.get_by_role("button", name="Delete alice's value").click()
    expect(root.get_by_text(f"Deleted alice's own value of {NAME}.")).to_be_visible()
    expect(root.get_by_text("Nobody has a value of their own now")).to_be_visible()

    open_mine(alice, server)
    expect(alice.get_by_text("Not set: plugins use the shared value")).to_be_visible()
    assert own_value_seen_by_plugin(alice, server) == SHARED_KEY


def test_my_secrets_without_javascript(browser, personal_server):
    server = personal_server
    context = browser.new_context(java_script_enabled=False)
    sign_in(context, server, "alice")
    page = context.new_page()
    open_mine(page, server)
    page.get_by_role("link", name=f"Set your {NAME}").click()
    page.get_by_label("Value", exact=True).fill(ALICE_KEY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Saved your own {NAME}: version 1.")).to_be_visible()
    page.get_by_role("button", name=f"Reveal your {NAME}").click()
    expect(page.get_by_text(ALICE_KEY)).to_be_visible()
    open_mine(page, server)
    page.get_by_role("button", name=f"Delete your {NAME}").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted your own {NAME}")).to_be_visible()


@pytest.mark.parametrize("width,height", [(1280, 900), (375, 800)])
def test_my_secrets_is_accessible(browser, personal_server, width, height):
    server = personal_server
    page = actor_page(browser, server, "alice", width, height)
    open_mine(page, server)
    assert_accessible(page, f"not set at {width}px")
    assert_no_horizontal_overflow(page, width)
    page.screenshot(path=f"playwright_tests/screenshots/mine-unset-{width}.png", full_page=True)
    set_own_value(page, ALICE_KEY)
    assert_accessible(page, f"set at {width}px")
    assert_no_horizontal_overflow(page, width)
    page.get_by_role("button", name=f"Reveal your {NAME}").click()
    expect(page.get_by_text(ALICE_KEY)).to_be_visible()
    assert_accessible(page, f"revealed at {width}px")
    page.screenshot(path=f"playwright_tests/screenshots/mine-revealed-{width}.png", full_page=True)
