"""A long list comes in pages: in place with htmx, as plain links without JavaScript."""

import re

from playwright.sync_api import expect

from helpers import assert_no_page_load, open_secrets, row, sign_in, snap

EXTRA = 60  # with the four example secrets: 64, two pages of 50


def count(page):
    return page.locator("#secrets-count")


def page_of(page):
    """Where the pages' navigation says we are."""
    return page.get_by_role("navigation", name="Pages of secrets").locator("> span")


def test_next_and_previous_load_in_place(page, context, start_datasette):
    server = start_datasette(extra_secrets=EXTRA)
    sign_in(context, server, "root")
    open_secrets(page, server)
    expect(count(page)).to_have_text("64 secrets.")
    expect(page_of(page)).to_have_text("Page 1 of 2: 1–50")
    expect(row(page, "ALPHA_API_KEY")).to_be_visible()
    expect(row(page, "GAMMA_WEBHOOK_SECRET")).to_have_count(0)

    page.get_by_role("link", name="Next page").click()
    expect(page_of(page)).to_have_text("Page 2 of 2: 51–64")
    expect(count(page)).to_have_text("64 secrets.")
    expect(row(page, "GAMMA_WEBHOOK_SECRET")).to_be_visible()
    expect(row(page, "ALPHA_API_KEY")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/-/secrets\?page=2$"))
    assert_no_page_load(page)
    snap(page, "second-page")

    page.go_back()
    expect(page_of(page)).to_have_text("Page 1 of 2: 1–50")
    page.get_by_role("link", name="Next page").click()
    page.get_by_role("link", name="Previous page").click()
    expect(row(page, "ALPHA_API_KEY")).to_be_visible()

    # The filter searches every page and starts from the first.
    page.get_by_role("search").get_by_label("Filter").fill("webhook")
    expect(row(page, "GAMMA_WEBHOOK_SECRET")).to_be_visible()
    expect(count(page)).to_have_text("1 of 64 secrets shown matching “webhook”.")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)


def test_pages_without_javascript(new_context, start_datasette):
    server = start_datasette(extra_secrets=EXTRA)
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    page = context.new_page()
    page.goto(server.path("/-/secrets"))
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(server.path("/-/secrets?page=2"))
    expect(row(page, "GAMMA_WEBHOOK_SECRET")).to_be_visible()
    expect(page_of(page)).to_have_text("Page 2 of 2: 51–64")
