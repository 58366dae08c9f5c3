"""Issue 21, must fix 1: every button readable, for mouse users too.

The Delete confirmation's button was white on white when opened with the mouse
(a rule for quiet buttons beat the red primary style unless the button had
keyboard focus), and the keyboard-driven tests never saw it. Here the mouse
opens each state (locator.click), and in each, every visible button's text
colour is measured against the background it sits on (WCAG AA), at rest and
with the mouse over the buttons of what opened. axe-core's undecided colour
contrasts fail too (assert_accessible).

Screenshots: screenshots/contrast-STATE-WIDTH.png.
"""

from playwright.sync_api import Page, expect

from helpers import (
    assert_accessible,
    assert_buttons_readable,
    button_contrasts,
    edit_button,
    history_button,
    row,
    sign_in,
    snap,
)
import scale_helpers
from scale_helpers import HISTORY_NAME, confirmation, delete_button, editor, history_row, scale_page

# The shared fixtures (scale_helpers): every test here runs at 1280 and 375 px.
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args

PERSONAL = "AI_PERSONAL_KEY"  # plugins/personal_secrets.py's personal secret
RED = "rgb(176, 0, 32)"  # #b00020, the destructive primary


def check(page: Page, state, width, hover=None):
    """Screenshot, then every button readable (hovered too, inside ``hover``), then axe."""
    page.mouse.move(0, 0)
    snap(page, f"contrast-{state}-{width}")
    assert_buttons_readable(page, f"{state} ({width}px)", hover=hover)
    assert_accessible(page, f"{state} ({width}px)")


def test_a_delete_confirmation_opened_with_the_mouse_shows_its_red_button(page, context, start_datasette, width):
    scale_page(page, context, start_datasette)
    name = "BETA_TOKEN"
    delete_button(page, name).click()  # the mouse: no keyboard focus ring on what opens
    confirm = confirmation(page, name).get_by_role("button", name=f"Delete {name}")
    expect(confirm).to_be_focused()
    page.mouse.move(0, 0)
    assert confirm.evaluate("b => getComputedStyle(b).backgroundColor") == RED
    assert confirm.evaluate("b => getComputedStyle(b).color") == "rgb(255, 255, 255)"
    (contrast,) = button_contrasts(page, confirm)
    assert contrast["ratio"] >= 4.5, contrast
    check(page, "delete-confirmation", width, hover=confirmation(page, name))


def test_every_button_is_readable_in_each_state_of_the_list(page, context, start_datasette, width):
    server = scale_page(page, context, start_datasette)
    check(page, "list", width, hover=row(page, "ALPHA_API_KEY"))

    name = "ALPHA_API_KEY"
    edit_button(page, name).click()
    expect(editor(page, name)).to_be_visible()
    check(page, "editor", width, hover=editor(page, name))
    editor(page, name).get_by_role("button", name="Cancel").click()
    expect(editor(page, name)).to_have_count(0)

    history_button(page, HISTORY_NAME).click()
    history = history_row(page, HISTORY_NAME)
    expect(history).to_be_visible()
    check(page, "history", width, hover=history)
    history.get_by_role("button", name="Restore version 1").click()
    restore = history.locator("form.secret-confirm")
    expect(restore).to_be_visible()
    check(page, "restore-confirmation", width, hover=restore)

    page.goto(server.path(f"/-/secrets/{name}"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, "edit-page", width, hover=page.locator("form.secret-form"))


def test_every_button_is_readable_on_my_secrets(page, context, start_datasette, width):
    server = start_datasette(personal=True)
    sign_in(context, server, "alice")
    saved = context.request.post(
        server.path(f"/-/secrets/-/mine/{PERSONAL}"), form={"secret": "sk-alice-contrast-0001"}, max_redirects=0
    )
    assert saved.status == 302, saved.text()
    page.goto(server.path("/-/secrets/-/mine"))
    expect(page.get_by_role("heading", level=1, name="My secrets")).to_be_visible()
    own = page.locator("tbody.secret", has_text=PERSONAL)
    check(page, "mine", width, hover=own)

    own.get_by_role("button", name=f"Delete your {PERSONAL}").click()
    confirm = own.locator("form.secret-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name=f"Delete your {PERSONAL}")).to_be_focused()
    check(page, "mine-delete-confirmation", width, hover=confirm)
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)

    own.get_by_role("link", name=f"Edit your {PERSONAL}").click()
    form = own.locator("form.secret-form")
    expect(form).to_be_visible()
    check(page, "mine-editor", width, hover=form)
