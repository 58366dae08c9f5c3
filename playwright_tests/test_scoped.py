"""Per-secret permissions in the browser (issue 22): bob, granted manage-secrets
and reveal-secrets on BETA_TOKEN alone by the plugin's ``secrets:`` block, sees
only that secret on the list, can reveal it, and has no link to the key panel;
with and without JavaScript, at 1280 and 375 px wide, with axe."""

import pytest
from playwright.sync_api import expect

from helpers import (
    assert_accessible, assert_no_horizontal_overflow, row, seed, sign_in, snap, unfold, value_cell,
)

MINE = "BETA_TOKEN"
OTHERS = ("ALPHA_API_KEY", "GAMMA_WEBHOOK_SECRET", "ENV_SECRET")
BOB_VALUE = "beta-bob-may-see-this-B0B5"
OTHER_VALUE = "alpha-not-for-bob-ALPH"
SECRETS = {MINE: {"permissions": {"manage-secrets": {"id": "bob"}, "reveal-secrets": {"id": "bob"}}}}


@pytest.fixture
def scoped_server(start_datasette, new_context):
    server = start_datasette(secrets=SECRETS)
    root = new_context()
    sign_in(root, server, "root")
    seed(root, server, MINE, BOB_VALUE)
    seed(root, server, "ALPHA_API_KEY", OTHER_VALUE)
    root.close()
    return server


def bob_list(new_context, server, width, javascript):
    context = new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    sign_in(context, server, "bob")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    expect(page.get_by_role("heading", level=1, name="Secrets")).to_be_visible()
    return page


def assert_only_his_secret(page, listed=True):
    """Nothing of another secret, no key panel link; on the list (``listed``), his row alone."""
    if listed:
        expect(page.locator("tbody.secret")).to_have_count(1)
        expect(row(page, MINE)).to_be_visible()
    for name in OTHERS:
        expect(row(page, name)).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text(name)
    expect(page.get_by_role("link", name="Encryption keys")).to_have_count(0)
    expect(page.locator('a[href$="/-/secrets/-/keys"]')).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(OTHER_VALUE)


def no_script_twin(new_context, server, width):
    """bob in a browser that runs axe but none of the page's scripts (every
    script request refused): the page as a browser without JavaScript shows
    it. (With JavaScript switched off, axe itself cannot run.)"""
    context = new_context(viewport={"width": width, "height": 900})
    context.route("**/*.js", lambda route: route.abort())
    sign_in(context, server, "bob")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    expect(page.get_by_role("heading", level=1, name="Secrets")).to_be_visible()
    assert page.evaluate("typeof htmx") == "undefined"
    return page


@pytest.mark.parametrize("width", [1280, 375])
def test_bob_sees_reveals_only_his_secret_with_javascript(new_context, scoped_server, width):
    page = bob_list(new_context, scoped_server, width, javascript=True)
    assert_only_his_secret(page)
    assert_no_horizontal_overflow(page, width)
    assert_accessible(page, f"bob's list at {width}px")
    snap(page, f"scoped-bob-{width}")
    unfold(page, MINE)  # on a phone, Reveal is in the rest of the card
    row(page, MINE).get_by_role("button", name=f"Reveal {MINE}").click()
    expect(page.locator(f"code#revealed-{MINE}")).to_have_text(BOB_VALUE)
    assert_only_his_secret(page)
    assert_accessible(page, f"bob's revealed value at {width}px")
    snap(page, f"scoped-bob-revealed-{width}")


@pytest.mark.parametrize("width", [1280, 375])
def test_bob_sees_reveals_only_his_secret_without_javascript(new_context, scoped_server, width):
    page = bob_list(new_context, scoped_server, width, javascript=False)
    assert_only_his_secret(page)
    assert_no_horizontal_overflow(page, width)
    snap(page, f"scoped-bob-nojs-{width}")
    row(page, MINE).get_by_role("button", name=f"Reveal {MINE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MINE)
    expect(page.locator(f"code#revealed-{MINE}")).to_have_text(BOB_VALUE)
    assert_only_his_secret(page, listed=False)
    page.get_by_role("link", name="Hide and go back to the list").click()
    expect(value_cell(page, MINE)).not_to_contain_text(BOB_VALUE)
    assert_only_his_secret(page)
    # axe on the list, as a browser without JavaScript shows it.
    twin = no_script_twin(new_context, scoped_server, width)
    assert_only_his_secret(twin)
    assert_accessible(twin, f"bob's list without JavaScript at {width}px")
    # (Not the reveal page: its timed <meta http-equiv="refresh">, which masks the
    # value again without JavaScript, is axe's meta-refresh violation by design.)
