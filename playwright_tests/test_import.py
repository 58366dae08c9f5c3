"""Importing a .env block in the browser: preview with values hidden, untick one, store."""

from playwright.sync_api import expect

from helpers import assert_accessible, assert_no_page_load, mark, row, snap, value_cell

DOTENV = """ALPHA_API_KEY=alpha-imported-0123456789
BETA_TOKEN="beta-imported"
UNKNOWN_THING=ignored
"""


def test_preview_untick_and_store(root_page, context, server):
    page = root_page
    page.get_by_role("link", name="Import a .env file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a .env file")
    mark(page)
    page.get_by_label(".env text").fill(DOTENV)
    page.get_by_role("button", name="Preview").click()
    table = page.locator("table.secrets-import-table")
    expect(table.locator("caption")).to_have_text("Preview: 2 of 3 would be stored")
    expect(table).to_contain_text("Unknown: no installed plugin registers it, not stored")
    expect(table).not_to_contain_text("alpha-imported")
    assert_no_page_load(page)
    snap(page, "import-preview")
    assert_accessible(page, "import preview")

    page.get_by_label("Store BETA_TOKEN").uncheck()
    page.get_by_role("button", name="Store the chosen secrets").click()
    expect(page.locator("#secrets-status")).to_have_text("Stored 1 secret: ALPHA_API_KEY (version 1).")
    page.get_by_role("link", name="Back to the secrets").click()
    expect(value_cell(page, "ALPHA_API_KEY")).to_contain_text("Reveal")
    expect(value_cell(page, "BETA_TOKEN")).to_contain_text("Not set")
    row(page, "ALPHA_API_KEY").get_by_role("button", name="Reveal ALPHA_API_KEY").click()
    expect(page.locator(".secret-revealed-value")).to_have_text("alpha-imported-0123456789")


def test_import_without_javascript(new_context, server):
    from helpers import sign_in

    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    page = context.new_page()
    page.goto(server.path("/-/secrets/-/import"))
    page.get_by_label(".env text").fill("BETA_TOKEN=beta-no-js\n")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("table.secrets-import-table")).to_contain_text("New: no value is stored yet")
    page.get_by_role("button", name="Store the chosen secrets").click()
    expect(page.locator(".message-info")).to_have_text("Stored 1 secret: BETA_TOKEN (version 1).")
