"""Issue 21's smaller points in the browser: History (a light focus on its heading,
one heading, the key id only when keys differ, a filled confirm button, labelled
cards on a phone), one primary blue and 24 px targets on every page, the owners
count underlined, import with no key, Copy's and Test's feedback on their buttons,
the list's Skip to secrets link and its status links (none for a status no secret
has). With the mouse and the keyboard, at 1280 and 375 px; screenshots:
screenshots/small-STATE-WIDTH.png."""

import re

import pytest
from playwright.sync_api import Page, expect

from helpers import (
    assert_accessible,
    assert_buttons_readable,
    assert_no_horizontal_overflow,
    assert_no_page_load,
    feedback,
    history_button,
    mark,
    open_secrets,
    press_until_focused,
    row,
    seed,
    sign_in,
    snap,
    unfold,
    version_cell,
)
import scale_helpers
from scale_helpers import VIEWPORTS

# Every test here runs at 1280 and 375 px (scale_helpers' shared fixtures).
width = scale_helpers.width
browser_context_args = scale_helpers.browser_context_args

NAME = "ALPHA_API_KEY"
PERSONAL = "AI_PERSONAL_KEY"  # plugins/personal_secrets.py
PRIMARY_BLUE = "rgb(0, 88, 184)"


def before_content(locator):
    """The text a cell's ::before shows (its label on a phone card), or ''."""
    content = locator.evaluate("e => getComputedStyle(e, '::before').content")
    return "" if content in ("none", "normal") else content.strip('"')


def outline(locator):
    return locator.evaluate("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth")


def background(locator):
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def heading(page: Page):
    return row(page, NAME).get_by_role("heading", name=f"History of {NAME}")


def versions(page: Page):
    return row(page, NAME).get_by_role("table", name=f"Versions of {NAME}")


def open_card(page: Page, name, keyboard=False):
    """On a phone a compact card shows the rest of a row on a tap of its "More" (where the
    list has one); with ``keyboard``, from Tab and Enter."""
    more = row(page, name).get_by_role("button", name=f"More about {name}")
    if more.is_visible() and more.get_attribute("aria-expanded") == "false":
        if keyboard:
            press_until_focused(page, more)
            page.keyboard.press("Enter")
        else:
            more.click()
        expect(more).to_have_attribute("aria-expanded", "true")


def two_versions(context, server):
    seed(context, server, NAME, "alpha-first-value-1111", "first")
    seed(context, server, NAME, "alpha-second-value-2222", "second")


def assert_history_reads(page: Page, table, width):
    """One visible heading (the caption is for screen readers), no key id column (one
    key), and at 375 px each version a card of labelled lines."""
    expect(table.locator("caption")).to_have_class("visually-hidden")
    expect(table.get_by_role("columnheader", name="Key id")).to_have_count(0)
    first = table.locator("tbody tr").first
    if width == 375:
        assert before_content(first.locator("th")) == "Version"
        assert before_content(first.locator("td[data-label=Stored]")) == "Stored"
        assert before_content(first.locator("td[data-label=Note]")) == "Note"
        expect(first.locator("th")).to_contain_text("2")
        # Each labelled line is a line of its own: Version, Stored, Note one under the other.
        tops = [first.locator(s).bounding_box()["y"] for s in ("th", "td[data-label=Stored]", "td[data-label=Note]")]
        assert tops == sorted(tops) and len(set(round(t) for t in tops)) == 3, tops
    else:
        assert before_content(first.locator("td[data-label=Stored]")) == ""


def test_history_with_the_mouse(page, context, server, width):
    sign_in(context, server, "root")
    two_versions(context, server)
    open_secrets(page, server)
    open_card(page, NAME)
    history_button(page, NAME).click()
    title = heading(page)
    expect(title).to_be_focused()
    # Focus came with a click: the heading shows no ring (it is not a control).
    assert outline(title).startswith("none"), outline(title)
    table = versions(page)
    assert_history_reads(page, table, width)
    snap(page, f"small-history-{width}")
    assert_no_horizontal_overflow(page, VIEWPORTS[width]["width"])
    assert_accessible(page, f"history open with the mouse ({width}px)")

    table.get_by_role("button", name="Restore version 1").click()
    yes = table.locator("form.secret-confirm").get_by_role("button", name="Restore version 1")
    expect(yes).to_be_focused()
    page.mouse.move(0, 0)
    # The confirmation's button is the filled primary, in the one primary blue.
    assert background(yes) == PRIMARY_BLUE, background(yes)
    expect(yes).to_have_css("color", "rgb(255, 255, 255)")
    assert yes.bounding_box()["height"] >= 24
    snap(page, f"small-history-restore-{width}")
    assert_buttons_readable(page, f"restore confirmation ({width}px)", hover=table)
    assert_accessible(page, f"restore confirmation ({width}px)")
    yes.click()
    expect(feedback(page, NAME)).to_have_text(f"Restored {NAME} version 1 as version 3.")
    expect(version_cell(page, NAME)).to_have_text("3")
    assert_no_page_load(page)


def test_history_with_the_keyboard(page, context, server, width):
    sign_in(context, server, "root")
    two_versions(context, server)
    open_secrets(page, server)
    open_card(page, NAME, keyboard=True)
    press_until_focused(page, history_button(page, NAME))
    page.keyboard.press("Enter")
    title = heading(page)
    expect(title).to_be_focused()
    # From the keyboard the heading shows where focus is, in a thin dotted ring.
    assert outline(title) == "dotted 1px", outline(title)
    table = versions(page)
    restore = table.get_by_role("button", name="Restore version 1")
    press_until_focused(page, restore)
    page.keyboard.press("Enter")
    yes = table.locator("form.secret-confirm").get_by_role("button", name="Restore version 1")
    expect(yes).to_be_focused()
    expect(yes).to_have_class("secret-primary")
    page.keyboard.press("Escape")
    expect(table.locator("form.secret-confirm")).to_have_count(0)
    expect(restore).to_be_focused()
    expect(version_cell(page, NAME)).to_have_text("2")


def test_history_page_without_javascript_reads_the_same(new_context, server, width):
    context = new_context(java_script_enabled=False)
    sign_in(context, server, "root")
    two_versions(context, server)
    page = context.new_page()
    page.goto(server.path(f"/-/secrets/{NAME}/history"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"History of {NAME}")
    table = page.get_by_role("table", name=f"Versions of {NAME}")
    assert_history_reads(page, table, width)
    restore = table.get_by_role("button", name="Restore version 1")
    # A quiet button in the plugin's blue outline, not the browser's grey; 24 px tall.
    expect(restore).to_have_css("color", PRIMARY_BLUE)
    expect(restore).to_have_css("background-color", "rgb(255, 255, 255)")
    assert restore.bounding_box()["height"] >= 24
    snap(page, f"small-history-page-{width}")
    restore.click()
    yes = page.get_by_role("button", name="Restore version 1")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Restore version 1 of {NAME}?")
    expect(yes).to_have_class("secret-primary")
    context.close()


# One primary blue, 24 px targets, the owners count underlined: on every page.

PAGES = {
    "my-secrets": "/-/secrets/-/mine",
    "import": "/-/secrets/-/import",
    "audit": "/-/secrets/-/audit",
    "keys": "/-/secrets/-/keys",
    "history": f"/-/secrets/{NAME}/history",
    "owners": f"/-/secrets/{PERSONAL}/owners",
    "restore": f"/-/secrets/{NAME}/restore?version=1",
    "list": "/-/secrets",
}

BLUR_JS = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
    document.activeElement && document.activeElement.blur(); done(); })))"""

CONTROLS_JS = """() => [...document.querySelectorAll(
        'main a, main button, main input:not([type=hidden]), main select, main summary')]
    .filter(e => e.checkVisibility() && e.getBoundingClientRect().width > 2)
    .map(e => {
        const s = getComputedStyle(e);
        return {html: e.outerHTML.slice(0, 90), height: e.getBoundingClientRect().height,
                background: s.backgroundColor, image: s.backgroundImage,
                danger: e.classList.contains('secret-danger'), disabled: !!e.disabled};
    })"""


def test_one_primary_blue_and_24px_targets_on_every_page(page, context, start_datasette, new_context, width):
    server = start_datasette(personal=True)
    alice = new_context()
    sign_in(alice, server, "alice")
    assert alice.request.post(
        server.path(f"/-/secrets/-/mine/{PERSONAL}"), form={"secret": "sk-alice-own-4410"}, max_redirects=0
    ).status == 302
    alice.close()
    sign_in(context, server, "root")
    two_versions(context, server)
    for state, path in PAGES.items():
        page.goto(server.path(path))
        # Nothing focused (autofocus runs when the page is first rendered: after two frames).
        page.evaluate(BLUR_JS)
        page.mouse.move(0, 0)
        controls = page.evaluate(CONTROLS_JS)
        assert controls, f"no control on the {state} page"
        small = [c for c in controls if c["height"] < 24]
        assert not small, f"targets under 24 px on the {state} page ({width}px): {small}"
        # Every filled control that is not red (a delete) or off is in the one primary blue.
        filled = [
            c for c in controls
            if not c["danger"] and not c["disabled"]
            and (c["image"] != "none" or c["background"] not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"))
        ]
        other = [c for c in filled if c["background"] != PRIMARY_BLUE or c["image"] != "none"]
        assert not other, f"a filled control not in the primary blue on the {state} page ({width}px): {other}"
        snap(page, f"small-{state}-{width}")
    # The owners count on a personal secret's row reads as a link: underlined.
    page.goto(server.path("/-/secrets"))
    unfold(page, PERSONAL)  # on a phone, the plugin line is in the rest of the card
    owners = row(page, PERSONAL).get_by_role("link", name=f"1 own value of {PERSONAL}: who, and delete")
    expect(owners).to_have_text("1 own value")
    expect(owners).to_have_css("text-decoration-line", "underline")
    assert owners.bounding_box()["height"] >= 24
    owners.click()  # the mouse
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Own values of {PERSONAL}")


# Import with no key: the setup panel first, the paste off.


@pytest.fixture
def no_key_server(tmp_path_factory, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "ENCRYPTION_KEY", "")
    server = conftest.start_server(tmp_path_factory.mktemp("no-key"))
    yield server
    conftest.stop_server(server.process)


def test_import_with_no_key_shows_the_setup_panel_first(page, context, no_key_server, width):
    server = no_key_server
    sign_in(context, server, "root")
    page.goto(server.path("/-/secrets/-/import"))
    mark(page)
    setup = page.get_by_role("heading", level=2, name="Set up an encryption key")
    paste = page.get_by_label(".env text")
    expect(setup).to_be_visible()
    assert setup.bounding_box()["y"] < paste.bounding_box()["y"], "the setup panel comes first"
    expect(paste).to_be_disabled()
    expect(page.get_by_role("button", name="Preview")).to_be_disabled()
    paste.click(force=True)  # the mouse cannot type into it
    expect(paste).not_to_be_focused()
    snap(page, f"small-import-no-key-{width}")
    assert_no_horizontal_overflow(page, VIEWPORTS[width]["width"])
    assert_accessible(page, f"import with no key ({width}px)")


# Copy's and Test's feedback in place, at both widths (issue 21's Tests), mouse and keyboard.


def test_copy_and_test_say_so_on_their_buttons(page, context, server, width):
    sign_in(context, server, "root")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    seed(context, server, NAME, "alpha-works-0123456789")
    page.clock.install()
    open_secrets(page, server)
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)
    alpha = row(page, NAME)
    open_card(page, NAME)
    copy = alpha.get_by_role("button", name=f"Copy {NAME}")
    copy.click()  # the mouse
    copied = alpha.get_by_role("button", name=f"Copied {NAME}")
    expect(copied).to_have_text("Copied ✓")
    assert page.evaluate("navigator.clipboard.readText()") == "alpha-works-0123456789"
    expect(page.locator("body")).not_to_contain_text("alpha-works-0123456789")
    snap(page, f"small-copied-{width}")
    assert_buttons_readable(page, f"copied ({width}px)", hover=alpha)
    page.clock.run_for(2_100)
    expect(copy).to_have_text("Copy")
    page.evaluate("navigator.clipboard.writeText('')")
    copy.focus()  # the keyboard
    page.keyboard.press("Enter")
    expect(copied).to_have_text("Copied ✓")
    assert page.evaluate("navigator.clipboard.readText()") == "alpha-works-0123456789"
    page.clock.run_for(2_100)
    expect(copy).to_have_text("Copy")

    test = alpha.get_by_role("button", name=f"Test {NAME}")
    held = []  # the check waits here until its busy state has been seen
    page.route(f"**/-/secrets/{NAME}/test", lambda route: held.append(route))
    test.click()  # the mouse
    expect(test).to_have_text("Testing…")
    expect(test).to_be_disabled()
    expect(alpha).to_have_attribute("aria-busy", "true")
    snap(page, f"small-testing-{width}")
    assert_buttons_readable(page, f"testing ({width}px)")
    held[0].continue_()
    expect(feedback(page, NAME)).to_contain_text("Alpha accepted the key")
    expect(test).to_have_text("Test")
    expect(alpha).not_to_have_attribute("aria-busy", "true")
    page.keyboard.press("Enter")  # the keyboard: focus is back on Test
    expect(test).to_have_text("Testing…")
    expect(alpha).to_have_attribute("aria-busy", "true")
    held[1].continue_()
    expect(test).to_have_text("Test")
    expect(alpha).not_to_have_attribute("aria-busy", "true")
    assert_no_page_load(page)


# The list's header: a Skip to secrets link, and no link to a status no secret has.


def status_link(page: Page, label):
    return page.get_by_role("navigation", name="Show secrets by status").get_by_role(
        "link", name=re.compile(rf"^{label} \(\d+\)$")
    )


def test_skip_to_secrets_and_no_zero_count_status_links(page, context, server, width):
    sign_in(context, server, "root")
    seed(context, server, NAME, "alpha-skip-value")
    open_secrets(page, server)
    # The keyboard: the skip link shows once it has focus, and takes focus past the header.
    skip = page.get_by_role("link", name="Skip to secrets")
    press_until_focused(page, skip)
    box = skip.bounding_box()
    assert box["width"] > 20 and box["height"] >= 24, box
    expect(skip).to_be_in_viewport()
    snap(page, f"small-skip-{width}", full_page=False)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#secrets-results$"))
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#secrets-results')"), page.evaluate(
        "document.activeElement.outerHTML.slice(0, 120)"
    )
    page.mouse.move(0, 0)
    skip.evaluate("e => e.blur()")
    assert skip.bounding_box()["width"] <= 1, "out of sight without focus"

    # No link to a status no secret has; one appears as its count rises from 0, in place.
    expect(status_link(page, "Set")).to_have_text("Set (1)")
    expect(status_link(page, "Deleted")).to_be_hidden()
    expect(status_link(page, "No longer used")).to_be_hidden()
    open_card(page, NAME)
    row(page, NAME).get_by_role("button", name=f"Delete {NAME}").click()  # the mouse
    row(page, NAME).locator("form.secret-confirm").get_by_role("button", name=re.compile("^Delete")).click()
    expect(status_link(page, "Deleted")).to_have_text("Deleted (1)")
    expect(status_link(page, "Deleted")).to_be_visible()
    expect(status_link(page, "Set")).to_be_hidden()
    snap(page, f"small-statuses-after-delete-{width}")
    assert_no_page_load(page)
