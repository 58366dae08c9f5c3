"""An htmx request that fails (4xx) says why in the status region, in place."""

from playwright.sync_api import expect

from helpers import (
    assert_no_page_load,
    open_secrets,
    reveal_button,
    row,
    seed,
    status,
    value_cell,
)


def delete_elsewhere(context, server, name):
    """Delete the secret as if from another tab."""
    response = context.request.post(server.path(f"/-/secrets/{name}/delete"), max_redirects=0)
    assert response.status == 302, response.status
    context.clear_cookies(name="ds_secrets_done")  # its message is for that other tab


def test_stale_delete_confirmation_reports_the_error(root_page, context, server):
    page = root_page
    seed(context, server, "BETA_TOKEN", "beta-stale")
    open_secrets(page, server)
    row(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    confirm = row(page, "BETA_TOKEN").locator("form.secret-confirm").get_by_role("button", name="Delete BETA_TOKEN")
    expect(confirm).to_be_visible()

    delete_elsewhere(context, server, "BETA_TOKEN")
    with page.expect_response(lambda r: r.url.endswith("/-/secrets/BETA_TOKEN/delete")) as info:
        confirm.click()
    assert info.value.status == 404
    error = status(page).locator(".message-error")
    expect(error).to_have_text("BETA_TOKEN has no stored value to delete: it is already deleted")
    # At the row too, which now shows what is true: deleted, with no confirmation left open.
    expect(row(page, "BETA_TOKEN").locator("tr.secret-feedback")).to_have_text("BETA_TOKEN has no stored value to delete: it is already deleted")
    expect(row(page, "BETA_TOKEN").locator("td.secret-value")).to_have_text("Deleted")
    expect(row(page, "BETA_TOKEN").locator("form.secret-confirm")).to_have_count(0)
    expect(page.get_by_role("heading", level=1, name="Secrets")).to_be_visible()
    assert_no_page_load(page)


def test_stale_reveal_reports_the_error(root_page, context, server):
    page = root_page
    seed(context, server, "ALPHA_API_KEY", "alpha-stale-value")
    open_secrets(page, server)
    delete_elsewhere(context, server, "ALPHA_API_KEY")

    reveal_button(page, "ALPHA_API_KEY").click()
    expect(status(page).locator(".message-error")).to_have_text(
        "ALPHA_API_KEY has no stored value to reveal"
    )
    expect(page.locator("#revealed-ALPHA_API_KEY")).to_have_count(0)
    expect(value_cell(page, "ALPHA_API_KEY")).not_to_contain_text("alpha-stale-value")
    assert_no_page_load(page)
