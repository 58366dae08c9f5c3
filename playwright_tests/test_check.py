"""The Test button: a plugin's check of a value, shown in place (✓ or ✗), never the value."""

from playwright.sync_api import expect

from helpers import (
    assert_accessible,
    assert_no_page_load,
    feedback,
    open_secrets,
    row,
    seed,
    snap,
)


def result(page, name):
    """The Test result: a row of its own under the secret's, spanning it (issue 16)."""
    return feedback(page, name).locator(".secret-check-ok, .secret-check-failed")


def test_pass_and_fail_in_place(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-works-0123456789")
    open_secrets(page, server)
    alpha = row(page, "ALPHA_API_KEY")
    alpha.get_by_role("button", name="Test ALPHA_API_KEY").click()
    expect(result(page, "ALPHA_API_KEY")).to_have_text("✓ Alpha accepted the key")
    assert_no_page_load(page)
    snap(page, "check-passed")
    assert_accessible(page, "check passed")

    seed(context, server, "ALPHA_API_KEY", "wrong-prefix-0123456789")
    open_secrets(page, server)
    row(page, "ALPHA_API_KEY").get_by_role("button", name="Test ALPHA_API_KEY").click()
    expect(result(page, "ALPHA_API_KEY")).to_have_text("✗ Alpha rejected the key: it must start with alpha-")
    expect(page.locator("body")).not_to_contain_text("wrong-prefix-0123456789")
    snap(page, "check-failed")


def test_a_check_that_hangs_is_stopped_after_ten_seconds(root_page, context, server):
    page = root_page
    seed(context, server, "GAMMA_WEBHOOK_SECRET", "gamma-value-0123456789")
    open_secrets(page, server)
    row(page, "GAMMA_WEBHOOK_SECRET").get_by_role("button", name="Test GAMMA_WEBHOOK_SECRET").click()
    expect(result(page, "GAMMA_WEBHOOK_SECRET")).to_have_text(
        "✗ The check took longer than 10 seconds, so it was stopped.", timeout=20_000
    )


def test_without_javascript(new_context, server):
    from helpers import sign_in

    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    seed(context, server, "ALPHA_API_KEY", "alpha-works-0123456789")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    row(page, "ALPHA_API_KEY").get_by_role("button", name="Test ALPHA_API_KEY").click()
    # A page of its own holds the result (no redirect: it travels in no cookie).
    expect(page.get_by_role("heading", name="Test of ALPHA_API_KEY")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("✓ Alpha accepted the key")
    assert [c["name"] for c in page.context.cookies() if c["name"] in ("ds_secrets_done", "ds_messages")] == []
    page.get_by_role("link", name="Back to secrets").click()
    expect(page).to_have_url(server.path("/-/secrets#secret-ALPHA_API_KEY"))


def test_a_running_test_says_so_and_its_row_is_busy(root_page, context, server):
    """Issue 21: nothing showed for up to ten seconds while a check ran."""
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-works-0123456789")
    open_secrets(page, server)
    alpha = row(page, "ALPHA_API_KEY")
    test = alpha.get_by_role("button", name="Test ALPHA_API_KEY")
    held = []  # the request waits here until the busy state has been seen
    page.route("**/-/secrets/ALPHA_API_KEY/test", lambda route: held.append(route))
    test.click()
    expect(test).to_have_text("Testing…")
    expect(test).to_be_disabled()
    expect(alpha).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    expect(result(page, "ALPHA_API_KEY")).to_have_text("✓ Alpha accepted the key")
    expect(test).to_have_text("Test")
    expect(test).to_be_enabled()
    expect(test).to_be_focused()
    expect(alpha).not_to_have_attribute("aria-busy", "true")

    # A Test refused (here: too many) ends its busy state too.
    page.unroute("**/-/secrets/ALPHA_API_KEY/test")
    page.route("**/-/secrets/ALPHA_API_KEY/test", lambda route: route.fulfill(
        status=429, headers={"HX-Retarget": "#secrets-status", "HX-Reswap": "innerHTML"},
        body='<p class="message-error">Too many tests: at most 30 a minute.</p>',
    ))
    test.click()
    expect(page.locator("#secrets-status")).to_have_text("Too many tests: at most 30 a minute.")
    expect(test).to_have_text("Test")
    expect(test).to_be_enabled()
    expect(alpha).not_to_have_attribute("aria-busy", "true")
    assert_no_page_load(page)
