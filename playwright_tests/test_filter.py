"""Filtering the list: htmx active search, and the plain GET form."""

import re

from playwright.sync_api import expect

from helpers import assert_no_page_load, open_secrets, row, seed, sign_in

ALL = ["ALPHA_API_KEY", "BETA_TOKEN", "ENV_SECRET", "GAMMA_WEBHOOK_SECRET"]


def expect_only(page, *names):
    for name in ALL:
        expect(row(page, name)).to_have_count(1 if name in names else 0)


def filter_box(page):
    return page.get_by_role("search").get_by_label("Filter")


def test_active_search_filters_as_you_type(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-value", "billing account")
    open_secrets(page, server)
    expect_only(page, *ALL)

    box = filter_box(page)
    expect(box).to_have_attribute("type", "search")
    expect(box).to_have_attribute("id", "secrets-q")

    # By name, ignoring case.
    box.press_sequentially("beta")
    expect_only(page, "BETA_TOKEN")
    expect(page).to_have_url(re.compile(r"/-/secrets\?q=beta$"))
    assert_no_page_load(page)

    # By description (its text, not its markup).
    box.fill("webhooks")
    expect_only(page, "GAMMA_WEBHOOK_SECRET")
    box.fill("strong")
    expect(page.locator(".secrets-empty")).to_be_visible()
    box.fill("Alpha enrichment")
    expect_only(page, "ALPHA_API_KEY")

    # By note.
    box.fill("BILLING")
    expect_only(page, "ALPHA_API_KEY")

    # Nothing matches.
    box.fill("zzz")
    empty = page.locator(".secrets-empty")
    expect(empty).to_have_text("No secrets match “zzz”. Show all secrets")
    expect(empty.get_by_role("link", name="Show all secrets")).to_have_attribute(
        "href", "/-/secrets"
    )
    expect_only(page)

    # Clearing shows everything again.
    box.fill("")
    expect_only(page, *ALL)
    assert_no_page_load(page)

    # Rows that came from a filter swap still work.
    box.fill("gamma")
    expect_only(page, "GAMMA_WEBHOOK_SECRET")
    row(page, "GAMMA_WEBHOOK_SECRET").get_by_role("link", name="Set GAMMA_WEBHOOK_SECRET").click()
    expect(row(page, "GAMMA_WEBHOOK_SECRET").locator("form.secret-form")).to_be_visible()
    assert_no_page_load(page)


def test_submitting_the_filter_form_with_htmx(root_page):
    page = root_page
    filter_box(page).fill("token")
    page.get_by_role("search").get_by_role("button", name="Filter").click()
    expect_only(page, "BETA_TOKEN")
    expect(page).to_have_url(re.compile(r"\?q=token$"))
    assert_no_page_load(page)


def test_plain_get_filter(root_page, server):
    page = root_page
    open_secrets(page, server, "?q=gamma")
    expect(filter_box(page)).to_have_value("gamma")
    expect_only(page, "GAMMA_WEBHOOK_SECRET")

    page.goto(server.path("/-/secrets?q=nothing-matches-this"))
    expect(page.locator(".secrets-empty")).to_contain_text("No secrets match “nothing-matches-this”.")
    page.get_by_role("link", name="Show all secrets").click()
    expect(page).to_have_url(server.path("/-/secrets"))
    expect_only(page, *ALL)


def test_filter_without_javascript(new_context, server):
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    filter_box(page).fill("env")
    page.get_by_role("search").get_by_role("button", name="Filter").click()
    expect(page).to_have_url(server.path("/-/secrets?q=env"))
    expect_only(page, "ENV_SECRET")
    expect(filter_box(page)).to_have_value("env")


def test_status_links_filter_in_place_and_keep_the_words(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-value")
    open_secrets(page, server)
    page.get_by_role("link", name="Not set (2)").click()
    expect_only(page, "BETA_TOKEN", "GAMMA_WEBHOOK_SECRET")
    expect(page).to_have_url(re.compile(r"/-/secrets\?status=unset$"))
    expect(page.get_by_role("link", name="Not set (2)")).to_have_attribute("aria-current", "true")
    assert_no_page_load(page)

    filter_box(page).fill("gamma")
    expect_only(page, "GAMMA_WEBHOOK_SECRET")
    expect(page).to_have_url(re.compile(r"q=gamma&status=unset$"))
    page.get_by_role("link", name=re.compile(r"^All \(")).click()
    expect_only(page, "GAMMA_WEBHOOK_SECRET")  # the words still apply
    expect(page).to_have_url(re.compile(r"/-/secrets\?q=gamma$"))


def test_keyboard_focus_stays_on_the_status_link_chosen(root_page, context, server):
    """The links are swapped with the list: focus moves to the same link in the new one."""
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-value")
    open_secrets(page, server)
    unset = page.get_by_role("link", name="Not set (2)")
    unset.focus()
    page.keyboard.press("Enter")
    expect_only(page, "BETA_TOKEN", "GAMMA_WEBHOOK_SECRET")
    expect(unset).to_have_attribute("aria-current", "true")
    expect(unset).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name=re.compile(r"^All \("))).to_be_focused()
    assert_no_page_load(page)
