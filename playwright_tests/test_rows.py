"""What each row shows: descriptions, obtain links, the environment-variable row."""

import re

from playwright.sync_api import expect

from helpers import ENV_SECRET_VALUE, MASK, about, open_secrets, row, seed, value_cell


def test_obtain_link_opens_a_new_tab_without_opener(root_page, context):
    page = root_page
    secret = row(page, "ALPHA_API_KEY")
    # The row header is the name alone (screen readers repeat it for every cell);
    # what the secret is for is in a row of its own under it.
    expect(secret.get_by_role("rowheader")).to_have_text("ALPHA_API_KEY")
    expect(about(page, "ALPHA_API_KEY")).to_contain_text("Lets the Alpha enrichment call its API.")
    expect(about(page, "ALPHA_API_KEY").locator(".secret-description strong")).to_have_text("Alpha")
    expect(about(page, "ALPHA_API_KEY")).to_contain_text("Registered by example_secrets.py")

    link = about(page, "ALPHA_API_KEY").get_by_role("link", name="Get an Alpha key (opens in a new tab)")
    expect(link).to_have_attribute("href", "https://alpha.example.com/account/keys")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))

    # The network is closed: answer the external page here.
    context.route(
        "https://alpha.example.com/**",
        lambda route: route.fulfill(content_type="text/html", body="<title>Alpha keys</title>"),
    )
    with page.expect_popup() as popup_info:
        link.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == "https://alpha.example.com/account/keys"
    assert popup.evaluate("window.opener === null")
    expect(page).to_have_url(re.compile(r"/-/secrets$"))

    beta = row(page, "BETA_TOKEN").get_by_role("link", name="Create a Beta token (opens in a new tab)")
    expect(beta).to_have_attribute("href", "https://beta.example.com/tokens")
    # No obtain_url, no link.
    expect(row(page, "GAMMA_WEBHOOK_SECRET").locator("a.secret-obtain")).to_have_count(0)


def test_environment_variable_row_is_never_revealed_and_stores_behind_with_a_warning(root_page, context, server):
    page = root_page
    secret = row(page, "ENV_SECRET")
    cell = value_cell(page, "ENV_SECRET")
    expect(cell).to_contain_text("Set by environment")
    expect(cell.locator("code")).to_have_text("DATASETTE_SECRETS_ENV_SECRET")
    expect(secret.get_by_role("button", name="Reveal ENV_SECRET")).to_have_count(0)
    expect(secret.get_by_role("button", name="Copy ENV_SECRET")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(ENV_SECRET_VALUE)

    # Never revealed by hand either.
    response = context.request.post(server.path("/-/secrets/ENV_SECRET/reveal"), max_redirects=0)
    assert response.status == 403, response.status
    assert ENV_SECRET_VALUE not in response.text()

    # A fallback value may be stored behind the variable (rules.py): the editor warns that the variable wins.
    secret.get_by_role("link", name="Store a fallback value for ENV_SECRET").click()
    expect(page.get_by_text("is set and takes precedence")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(ENV_SECRET_VALUE)


def test_mask_shows_last_four_only_for_long_values(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "0123456789abcdef")  # 16: hint
    seed(context, server, "BETA_TOKEN", "0123456789abcde")  # 15: no hint
    open_secrets(page, server)
    alpha = value_cell(page, "ALPHA_API_KEY").locator(".secret-mask")
    expect(alpha).to_have_text(re.compile(rf"^\s*Hidden value, ending cdef\s*{MASK}cdef\s*$"))
    beta = value_cell(page, "BETA_TOKEN").locator(".secret-mask")
    expect(beta).to_have_text(re.compile(rf"^\s*Hidden value\s*{MASK}\s*$"))
    expect(page.locator("body")).not_to_contain_text("0123456789")
