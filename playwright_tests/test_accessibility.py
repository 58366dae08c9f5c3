"""axe-core finds no violations in each state of the page."""

from playwright.sync_api import expect

from helpers import (
    assert_accessible,
    edit_button,
    edit_form,
    fill_past_maxlength,
    note_input,
    open_edit,
    open_history,
    open_secrets,
    reveal,
    row,
    save,
    seed,
    status,
)


def secrets_page(page, context, server):
    """A list with every kind of row: set (long and short), unset, env."""
    seed(context, server, "ALPHA_API_KEY", "alpha-accessible-value-A11Y", "with a note")
    seed(context, server, "BETA_TOKEN", "short")
    open_secrets(page, server)
    return page


def test_default_state(root_page, context, server):
    page = secrets_page(root_page, context, server)
    assert_accessible(page, "default")


def test_editing_state(root_page, context, server):
    page = secrets_page(root_page, context, server)
    open_edit(page, "ALPHA_API_KEY")
    assert_accessible(page, "editing")


def test_revealed_state(root_page, context, server):
    page = secrets_page(root_page, context, server)
    reveal(page, "ALPHA_API_KEY")
    assert_accessible(page, "revealed")


def test_error_state(root_page, context, server):
    page = secrets_page(root_page, context, server)
    open_edit(page, "GAMMA_WEBHOOK_SECRET")
    fill_past_maxlength(note_input(page, "GAMMA_WEBHOOK_SECRET"), "n" * 201)
    save(page, "GAMMA_WEBHOOK_SECRET", "")
    expect(edit_form(page, "GAMMA_WEBHOOK_SECRET").locator(".secret-field-error")).to_have_count(2)
    assert_accessible(page, "error")


def test_history_and_delete_confirm_states(root_page, context, server):
    page = secrets_page(root_page, context, server)
    open_history(page, "ALPHA_API_KEY")
    row(page, "BETA_TOKEN").get_by_role("button", name="Delete BETA_TOKEN").click()
    expect(row(page, "BETA_TOKEN").locator("form.secret-confirm")).to_be_visible()
    assert_accessible(page, "history and delete-confirm")


def test_saved_state_with_the_edit_button_focused(root_page, context, server):
    page = secrets_page(root_page, context, server)
    open_edit(page, "GAMMA_WEBHOOK_SECRET")
    save(page, "GAMMA_WEBHOOK_SECRET", "gamma-value")
    expect(status(page)).to_have_text("Saved GAMMA_WEBHOOK_SECRET: version 1.")
    expect(edit_button(page, "GAMMA_WEBHOOK_SECRET")).to_be_focused()
    assert_accessible(page, "saved (Edit button focused)")


def test_full_page_edit_form(root_page, server):
    page = root_page
    page.goto(server.path("/-/secrets/ALPHA_API_KEY"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set ALPHA_API_KEY")
    assert_accessible(page, "full-page edit form")


def test_focused_links_keep_their_contrast(root_page, context, server):
    """Datasette colours a focused link pale green (1.9:1 on white); on these pages they stay readable."""
    page = secrets_page(root_page, context, server)
    for link in (
        row(page, "ALPHA_API_KEY").get_by_role("link", name="Get an Alpha key (opens in a new tab)"),
        page.get_by_role("link", name="Audit log"),
        page.get_by_role("link", name="Not set (1)"),
    ):
        link.focus()
        expect(link).to_be_focused()
        assert_accessible(page, f"{link.inner_text()!r} focused")
