"""The 40-secret fixture and the page objects the browser tests at scale share
(test_at_scale, test_glance, test_contrast, test_owners): its names and values,
the 1280 and 375 px viewports (``width`` and ``browser_context_args``, which a
test module takes by assignment), and locators for a row's parts."""

import sqlite3
import time
from contextlib import contextmanager

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from datasette_secrets.crypto import Key
from helpers import (
    ENCRYPTION_KEY,
    assert_accessible,
    assert_no_horizontal_overflow,
    edit_button,
    history_button,
    open_secrets,
    row,
    seed,
    sign_in,
    snap,
    unfold,
)
from plugins.scale_secrets import LONG_DESCRIPTION_NAME, LONG_NAME, scale_secrets

VIEWPORTS = {1280: {"width": 1280, "height": 900}, 375: {"width": 375, "height": 800}}
PAGE_SIZE = 50  # rows on a page of the list: the whole fixture on one page

EXAMPLE_NAMES = ["ALPHA_API_KEY", "BETA_TOKEN", "ENV_SECRET", "GAMMA_WEBHOOK_SECRET"]
REGISTERED = EXAMPLE_NAMES + [secret.name for secret in scale_secrets()]
ENV_NAME = "ENV_SECRET"  # DATASETTE_SECRETS_ENV_SECRET is set in every test server
ORPHAN = "LEGACY_SEARCH_TOKEN"  # a stored row no plugin registers
LISTED = sorted(REGISTERED + [ORPHAN])

# Stored by scale_list: name -> its versions' values, oldest first.
VALUES = {
    "ALPHA_API_KEY": ["alpha-4f9c2e7b1d"],
    "ANTHROPIC_API_KEY": ["sk-ant-first-0001", "sk-ant-second-0002"],
    "BETA_TOKEN": ["beta-copy-me-6e1f"],
    "DB": ["postgres://reader:pw@db.internal:5432/app"],
    LONG_NAME: ["etl-" + "0123456789abcdef" * 8],
    LONG_DESCRIPTION_NAME: ['{"type":"service_account","project_id":"geo-prod","key_id":"9f2c"}'],
    "S3": ["s3-secret-value"],
    "ZENDESK_API_TOKEN": ["zd-token-value"],
}
HISTORY_NAME = "GITHUB_TOKEN"  # four versions
VALUES[HISTORY_NAME] = [f"ghp-version-{n}" for n in range(1, 5)]
DELETED = "AWS_SECRET_ACCESS_KEY"
VALUES[DELETED] = ["aws-deleted-value"]
NOTES = {
    "DB": " ".join(["Rotated after the replica moved to the new cluster;"] * 4)[:200],
    LONG_NAME: "Issued by the data team",
}
OBTAIN_NAME = "GOOGLE_MAPS_API_KEY"  # not set, with an obtain link
UNSET_COUNT = len(REGISTERED) - (len(VALUES) - 1) - 1 - 1  # less set, deleted, environment
SET_COUNT = len(VALUES) - 1  # all but the deleted one
# The list's last row: those with no value come last (not set, deleted), by name.
LAST_ON_PAGE_ONE = max(name for name in REGISTERED if (name not in VALUES or name == DELETED) and name != ENV_NAME)

assert LAST_ON_PAGE_ONE not in VALUES and LAST_ON_PAGE_ONE not in (ENV_NAME, ORPHAN)
for name in (LONG_NAME, HISTORY_NAME, DELETED, ORPHAN, OBTAIN_NAME, "ANTHROPIC_API_KEY", "BETA_TOKEN"):
    assert LISTED.index(name) < PAGE_SIZE, f"{name} must be on the first page"


# The window: each test runs in both sizes.


@pytest.fixture(params=[1280, 375], ids=lambda width: f"{width}px")
def width(request):
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, width):
    return {**browser_context_args, "viewport": VIEWPORTS[width]}


# The list


def scale_list(context, server):
    """Signs the context in as root and stores the values: set, several versions,
    deleted, and an orphan row written straight into the internal database."""
    sign_in(context, server, "root")
    encrypted = Key(ENCRYPTION_KEY).encrypt(ORPHAN, 1, "orphan-value")
    conn = sqlite3.connect(server.internal)
    with conn:
        conn.execute(
            "insert into datasette_secrets (name, version, encrypted, encryption_key_name, note,"
            " created_at, updated_at) values (?, 1, ?, ?, 'from an uninstalled plugin',"
            " datetime('now'), datetime('now'))",
            [ORPHAN, encrypted, Key(ENCRYPTION_KEY).id],
        )
    conn.close()
    for name, values in VALUES.items():
        for number, value in enumerate(values, 1):
            note = NOTES.get(name, f"version {number}" if len(values) > 1 else "")
            seed(context, server, name, value, note)
    response = context.request.post(
        server.path(f"/-/secrets/{DELETED}/delete"), form={}, max_redirects=0
    )
    assert response.status == 302, response.text()
    context.clear_cookies(name="ds_secrets_done")
    # The server notices a write from another connection within a second.
    deadline = time.monotonic() + 10
    while f'id="secret-{ORPHAN}"' not in context.request.get(server.path("/-/secrets")).text():
        assert time.monotonic() < deadline, f"the orphan {ORPHAN} never appeared in the list"
        time.sleep(0.1)


def scale_page(page, context, start_datasette, **options):
    """A server with the 40 secrets, the values stored, root on /-/secrets."""
    server = start_datasette(scale=True, **options)
    scale_list(context, server)
    open_secrets(page, server)
    expect(page.locator("tbody.secret")).to_have_count(min(len(LISTED), PAGE_SIZE))
    return server


@contextmanager
def no_javascript(new_context, server, actor="root"):
    """A page in a second browser context with JavaScript switched off."""
    context = new_context(java_script_enabled=False)
    sign_in(context, server, actor)
    try:
        yield context.new_page()
    finally:
        context.close()


# Page objects for this file (the rows' controls are buttons, named after the secret)


def actions(page: Page, name) -> Locator:
    """The row's actions (on a phone, its card unfolded: see helpers.unfold)."""
    unfold(page, name)
    return row(page, name).locator("td.secret-actions")


def delete_button(page: Page, name) -> Locator:
    return actions(page, name).get_by_role("button", name=f"Delete {name}", exact=True)


def editor(page: Page, name) -> Locator:
    return row(page, name).locator("tr.secret-editing form.secret-form")


def confirmation(page: Page, name) -> Locator:
    return row(page, name).locator("tr.secret-open form.secret-confirm")


def history_row(page: Page, name) -> Locator:
    return row(page, name).locator("tr.secret-history")


def revealed(page: Page, name) -> Locator:
    return page.locator(f"code#revealed-{name}")


def open_editor(page: Page, name) -> Locator:
    edit_button(page, name).click()
    expect(editor(page, name)).to_be_visible()
    return editor(page, name)


def close_editor(page: Page, name):
    editor(page, name).get_by_role("button", name="Cancel").click()
    expect(editor(page, name)).to_have_count(0)


def open_delete(page: Page, name) -> Locator:
    delete_button(page, name).click()
    expect(confirmation(page, name)).to_be_visible()
    return confirmation(page, name)


def cancel_delete(page: Page, name):
    confirmation(page, name).get_by_role("button", name="Cancel").click()
    expect(confirmation(page, name)).to_have_count(0)


def toggle_history(page: Page, name, expanded):
    history_button(page, name).click()
    expect(history_button(page, name)).to_have_attribute("aria-expanded", str(expanded).lower())
    expect(history_row(page, name)).to_have_count(1 if expanded else 0)


def hide(page: Page, name):
    row(page, name).get_by_role("button", name=f"Hide {name}", exact=True).click()
    expect(revealed(page, name)).to_have_count(0)


# Checks


def check_state(page: Page, state, width, axe=True):
    """Screenshot this state, then: nothing wider than the window, no axe violation
    (axe=False in a page without JavaScript, where axe-core cannot run)."""
    snap(page, f"scale-{state}-{width}")
    assert_no_horizontal_overflow(page, VIEWPORTS[width]["width"])
    if axe:
        assert_accessible(page, f"{state} ({width}px)")


def assert_in_view(page: Page, locator: Locator, what):
    """``locator`` ends up entirely inside the window (waiting out any scrolling)."""
    handle = locator.element_handle()
    try:
        page.wait_for_function(
            """element => {
                const box = element.getBoundingClientRect();
                return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
            }""",
            arg=handle,
            timeout=3000,
        )
    except PlaywrightError:
        box = handle.evaluate("e => { const b = e.getBoundingClientRect(); return [b.top, b.bottom]; }")
        height = page.evaluate("window.innerHeight")
        raise AssertionError(
            f"{what} spans y={box[0]:.0f}..{box[1]:.0f}, not inside the {height}px-high window"
        ) from None


def assert_not_covered(locator: Locator, what):
    """Nothing (the fixed notice, say) lies over the middle of ``locator``."""
    on_top = locator.evaluate(
        """element => {
            const box = element.getBoundingClientRect();
            const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
            return element.contains(top) ? null : top && top.outerHTML.slice(0, 120);
        }"""
    )
    assert on_top is None, f"{what} is covered by {on_top}"


def header_widths(page: Page):
    return page.locator("table.secrets-table > thead th").evaluate_all(
        "cells => cells.map(cell => cell.getBoundingClientRect().width)"
    )


def assert_same_widths(before, after, state):
    assert len(before) == len(after) == 6  # Secret, Value, Note, Updated, Last used, actions
    moved = [
        f"column {i + 1}: {a:.1f}px -> {b:.1f}px"
        for i, (a, b) in enumerate(zip(before, after))
        if abs(a - b) > 1
    ]
    assert not moved, f"the header cells changed width with {state} open: " + "; ".join(moved)
