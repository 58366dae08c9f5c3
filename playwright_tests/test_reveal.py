"""Revealing a stored value: copy, hide, re-masking by itself, and who may."""

import re

from playwright.sync_api import expect

from helpers import (
    MASK,
    assert_no_page_load,
    open_secrets,
    reveal,
    reveal_button,
    row,
    seed,
    sign_in,
    snap,
    status,
    value_cell,
)

LONG_VALUE = "sk-alpha-0123456789-abcdef-WXYZ"


def test_reveal_copy_and_hide(root_page, context, server):
    page = root_page
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    seed(context, server, "ALPHA_API_KEY", LONG_VALUE)
    open_secrets(page, server)

    cell = value_cell(page, "ALPHA_API_KEY")
    expect(cell).to_contain_text(MASK + "WXYZ")
    expect(cell).not_to_contain_text(LONG_VALUE)

    # Copy from the masked row: onto the clipboard, never onto the screen.
    cell.get_by_role("button", name="Copy ALPHA_API_KEY").click()
    expect(status(page)).to_have_text("Copied ALPHA_API_KEY to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == LONG_VALUE
    expect(page.locator("body")).not_to_contain_text(LONG_VALUE)
    page.evaluate("navigator.clipboard.writeText('')")

    revealed = reveal(page, "ALPHA_API_KEY")
    expect(revealed).to_have_text(LONG_VALUE)
    copy = cell.get_by_role("button", name="Copy ALPHA_API_KEY")
    hide = cell.get_by_role("button", name="Hide ALPHA_API_KEY")
    expect(copy).to_be_visible()
    expect(copy).to_be_focused()
    expect(hide).to_be_visible()
    expect(cell).to_contain_text(f"Hides again in {server.reveal_seconds} seconds.")
    snap(page, "revealed")
    assert_no_page_load(page)

    copy.click()
    expect(status(page)).to_have_text("Copied ALPHA_API_KEY to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == LONG_VALUE

    hide.click()
    expect(page.locator("#revealed-ALPHA_API_KEY")).to_have_count(0)
    expect(cell).to_contain_text(MASK + "WXYZ")
    expect(cell).not_to_contain_text(LONG_VALUE)
    expect(reveal_button(page, "ALPHA_API_KEY")).to_be_focused()
    expect(status(page)).to_have_text("ALPHA_API_KEY is hidden again.")
    assert_no_page_load(page)

    # Revealing again works after hiding, and Escape hides it too, focus back on Reveal.
    expect(reveal(page, "ALPHA_API_KEY")).to_have_text(LONG_VALUE)
    page.keyboard.press("Escape")
    expect(page.locator("#revealed-ALPHA_API_KEY")).to_have_count(0)
    expect(cell).not_to_contain_text(LONG_VALUE)
    expect(reveal_button(page, "ALPHA_API_KEY")).to_be_focused()
    assert_no_page_load(page)


def test_reveal_swaps_only_the_value_cell(root_page, context, server):
    """The rest of the row stays as it was while the value is shown."""
    page = root_page
    seed(context, server, "BETA_TOKEN", "beta-secret")
    open_secrets(page, server)
    expect(reveal(page, "BETA_TOKEN")).to_have_text("beta-secret")
    expect(row(page, "BETA_TOKEN").get_by_role("link", name="Edit BETA_TOKEN")).to_be_visible()
    expect(row(page, "BETA_TOKEN").get_by_role("rowheader")).to_have_text("BETA_TOKEN")
    assert_no_page_load(page)


def test_revealed_value_masks_itself_again(page, context, start_datasette):
    server = start_datasette(reveal_seconds=3)
    sign_in(context, server, "root")
    seed(context, server, "BETA_TOKEN", "beta-token-that-hides-1234")
    # The page's timers run on a clock the test moves: the 3 seconds pass when it says.
    page.clock.install()
    open_secrets(page, server)
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)

    cell = value_cell(page, "BETA_TOKEN")
    revealed = reveal(page, "BETA_TOKEN")
    expect(revealed).to_have_text("beta-token-that-hides-1234")
    expect(cell).to_contain_text("Hides again in 3 seconds.")
    page.clock.run_for(2_900)
    # Not hidden before its time, nor on its way (htmx marks an element whose request is in flight).
    assert revealed.is_visible()
    assert page.locator("[data-remask].htmx-request").count() == 0

    page.clock.run_for(200)
    page.clock.resume()  # for what the swap back does after (focus, the notice)
    expect(revealed).to_have_count(0)
    expect(cell).to_contain_text(MASK + "1234")
    expect(cell).not_to_contain_text("beta-token-that-hides")
    # Focus was on its Copy button: it comes back to Reveal, and the notice says why.
    expect(reveal_button(page, "BETA_TOKEN")).to_be_focused()
    expect(status(page)).to_have_text("BETA_TOKEN is hidden again.")
    assert_no_page_load(page)


def test_manager_without_reveal_permission(page, context, server):
    sign_in(context, server, "manager")
    seed(context, server, "ALPHA_API_KEY", "alpha-manager-value-9876")
    open_secrets(page, server)

    cell = value_cell(page, "ALPHA_API_KEY")
    expect(cell).to_contain_text(MASK)
    expect(cell).not_to_contain_text("9876")  # no last four for those who may not reveal
    expect(page.get_by_role("button", name=re.compile(r"^(Reveal|Copy)"))).to_have_count(0)
    # A manager can still edit, see history and delete.
    expect(row(page, "ALPHA_API_KEY").get_by_role("link", name="Edit ALPHA_API_KEY")).to_be_visible()
    expect(row(page, "ALPHA_API_KEY").get_by_role("button", name="History of ALPHA_API_KEY")).to_be_visible()
    expect(row(page, "ALPHA_API_KEY").get_by_role("button", name="Delete ALPHA_API_KEY")).to_be_visible()

    for action in ("reveal", "copy"):
        for headers in ({}, {"HX-Request": "true"}):
            response = context.request.post(
                server.path(f"/-/secrets/ALPHA_API_KEY/{action}"), headers=headers, max_redirects=0
            )
            assert response.status == 403, (action, headers, response.status)
            assert "alpha-manager-value-9876" not in response.text()


def test_visitor_without_manage_permission_is_refused(context, server):
    sign_in(context, server, "visitor")
    for method, path in [
        ("get", "/-/secrets"),
        ("get", "/-/secrets/ALPHA_API_KEY"),
        ("post", "/-/secrets/ALPHA_API_KEY"),
        ("post", "/-/secrets/ALPHA_API_KEY/reveal"),
        ("get", "/-/secrets/ALPHA_API_KEY/history"),
    ]:
        response = getattr(context.request, method)(server.path(path), max_redirects=0)
        assert response.status == 403, (method, path, response.status)


def test_copy_says_copied_on_its_button_for_two_seconds(page, context, server):
    """Issue 21: no toast at the bottom of the window; the button says it, screen readers hear it."""
    sign_in(context, server, "root")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    seed(context, server, "ALPHA_API_KEY", LONG_VALUE)
    page.clock.install()
    open_secrets(page, server)
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    copy = value_cell(page, "ALPHA_API_KEY").locator("button[data-copy]")
    copy.click()
    expect(copy).to_have_text("Copied ✓")
    expect(copy).to_have_accessible_name("Copied ALPHA_API_KEY")
    expect(status(page)).to_have_text("Copied ALPHA_API_KEY to the clipboard.")
    assert status(page).bounding_box()["height"] <= 1, "said to screen readers, not shown as a toast"
    assert page.evaluate("navigator.clipboard.readText()") == LONG_VALUE
    page.clock.run_for(1_900)
    expect(copy).to_have_text("Copied ✓")
    page.clock.run_for(200)
    expect(copy).to_have_text("Copy")
    expect(copy).to_have_accessible_name("Copy ALPHA_API_KEY")
    assert_no_page_load(page)


def test_a_copy_refused_says_why_in_the_rows_band(page, context, server):
    sign_in(context, server, "root")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    seed(context, server, "ALPHA_API_KEY", LONG_VALUE)
    open_secrets(page, server)
    refusal = "Too many reveals: at most 30 a minute. Nothing was copied. Try again in 60 seconds."
    # The server's refusal, as its rate limit answers (a 429 with an error fragment).
    page.route("**/-/secrets/ALPHA_API_KEY/copy", lambda route: route.fulfill(
        status=429, body=f'<p class="message-error">{refusal}</p>', content_type="text/html",
    ))
    page.evaluate("navigator.clipboard.writeText('')")  # the browser's one clipboard, which other tests use
    copy = value_cell(page, "ALPHA_API_KEY").get_by_role("button", name="Copy ALPHA_API_KEY")
    copy.click()
    band = row(page, "ALPHA_API_KEY").locator("tr.secret-feedback.secret-failed")
    expect(band).to_have_text(refusal)
    expect(status(page)).to_have_text(refusal)
    assert status(page).bounding_box()["height"] <= 1, "said once, at the row"
    expect(copy).to_have_text("Copy")
    assert page.evaluate("navigator.clipboard.readText()") == ""
    expect(page.locator("body")).not_to_contain_text(LONG_VALUE)
    assert_no_page_load(page)
