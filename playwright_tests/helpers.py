"""Constants and page helpers shared by the browser tests (fixtures live in conftest.py)."""

import re
from pathlib import Path

from datasette.app import Datasette
from playwright.sync_api import Locator, Page, expect

HERE = Path(__file__).parent
SCREENSHOTS = HERE / "screenshots"
AXE_JS = HERE / "vendor" / "axe-core-4.14.1.min.js"

# Fixed for the whole suite: the signing secret (cookies are computed from it)
# and the encryption key (32 bytes, url-safe base64).
SIGNING_SECRET = "playwright-tests-signing-secret"
ENCRYPTION_KEY = "cGxheXdyaWdodC10ZXN0cy1lbmNyeXB0aW9uLWtleSE="
# ENV_SECRET comes from DATASETTE_SECRETS_ENV_SECRET in every test server.
ENV_SECRET_VALUE = "value-from-the-environment"
MASK = "\u2022" * 8
UTC_TITLE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
VALUE_LABEL = re.compile(r"^(New value|Value)$")


# Signing in


def actor_cookie(actor_id):
    """The signed ds_actor cookie value Datasette itself would set for this actor."""
    return Datasette(secret=SIGNING_SECRET).sign({"a": {"id": actor_id}}, "actor")


def sign_in(context, server, actor_id="root"):
    context.add_cookies(
        [{"name": "ds_actor", "value": actor_cookie(actor_id), "url": server.url}]
    )


def open_secrets(page: Page, server, query=""):
    """Load /-/secrets and mark the window (see assert_no_page_load)."""
    page.goto(server.path("/-/secrets" + query))
    expect(page.get_by_role("heading", level=1, name="Secrets")).to_be_visible()
    page.wait_for_load_state("load")
    mark(page)


# A full page load loses window.__marker; an htmx swap keeps it.


def mark(page: Page):
    page.evaluate("window.__marker = 1")


def assert_no_page_load(page: Page):
    assert page.evaluate("window.__marker") == 1, (
        "window.__marker is gone: that interaction loaded a whole new page "
        "instead of swapping a fragment with htmx"
    )


# Storing a value without the UI: the no-JS form's POST, with the context's cookie.


def seed(context, server, name, value, note=""):
    response = context.request.post(
        server.path(f"/-/secrets/{name}"),
        form={"secret": value, "note": note},
        max_redirects=0,
    )
    assert response.status == 302, f"seeding {name}: {response.status} {response.text()}"
    # The redirect left a "Saved ..." message for the next page: drop it.
    context.clear_cookies(name="ds_secrets_done")


# Page objects


def row(page: Page, name) -> Locator:
    return page.locator(f"#secret-{name}")


def value_cell(page: Page, name) -> Locator:
    return row(page, name).locator("td.secret-value")


def note_cell(page: Page, name) -> Locator:
    return row(page, name).locator("td.secret-note")


def version_cell(page: Page, name) -> Locator:
    """The row's version number (in its Updated cell: "v3 · 2 days ago by alice")."""
    return row(page, name).locator(".secret-version")


def status(page: Page) -> Locator:
    return page.locator("#secrets-status")


def feedback(page: Page, name) -> Locator:
    """The result of the last change, in a row under the secret's own."""
    return row(page, name).locator("tr.secret-feedback")


def about(page: Page, name) -> Locator:
    """The row under the secret's: description, obtain link, registering plugin."""
    return row(page, name).locator("tr.secret-about")


def edit_button(page: Page, name) -> Locator:
    """Set or Edit: a link to the editor's page, which htmx opens in place."""
    return row(page, name).get_by_role("link", name=re.compile(rf"^(Set|Edit) {re.escape(name)}$"))


def unfold(page: Page, name):
    """On a phone a secret's card shows its name, state and main action, and the rest
    (value, note, History, Delete, Test) on a tap of More: tap it if the card is folded.
    (The locators of controls in the rest call this first, so a test reads the same at
    1280 and 375 px.)"""
    more = row(page, name).locator(".secret-more")
    if more.count() == 1 and more.is_visible() and more.get_attribute("aria-expanded") == "false":
        more.click()
        expect(more).to_have_attribute("aria-expanded", "true")


def reveal_button(page: Page, name) -> Locator:
    unfold(page, name)
    return row(page, name).get_by_role("button", name=f"Reveal {name}", exact=True)


def edit_form(page: Page, name) -> Locator:
    return row(page, name).locator("form.secret-form")


def value_input(page: Page, name) -> Locator:
    return edit_form(page, name).get_by_label(VALUE_LABEL)


def note_input(page: Page, name) -> Locator:
    return edit_form(page, name).get_by_label("Note")


def fill_past_maxlength(field: Locator, text):
    """Put text in a field as a browser that ignores maxlength would send it
    (typing and pasting stop at the limit), to reach the server's own check."""
    field.evaluate(
        """(field, text) => {
            field.value = text;
            field.dispatchEvent(new Event("input", { bubbles: true }));
        }""",
        text,
    )


def open_edit(page: Page, name) -> Locator:
    """Click Set/Edit, wait for the inline form; returns the value input."""
    edit_button(page, name).click()
    expect(edit_form(page, name)).to_be_visible()
    return value_input(page, name)


def save(page: Page, name, value=None, note=None):
    """Fill the open inline form and press Save."""
    if value is not None:
        value_input(page, name).fill(value)
    if note is not None:
        note_input(page, name).fill(note)
    edit_form(page, name).get_by_role("button", name="Save").click()


def set_secret(page: Page, name, value, note=None, version=None):
    """Set or edit through the inline form and wait for the confirmation."""
    open_edit(page, name)
    save(page, name, value, note)
    number = str(version) if version is not None else r"\d+"
    saved = re.compile(rf"^\s*Saved {name}: version {number}\.\s*$")
    expect(feedback(page, name)).to_have_text(saved)
    expect(status(page)).to_have_text(saved)
    expect(edit_form(page, name)).to_have_count(0)


def reveal(page: Page, name) -> Locator:
    """Press Reveal; returns the revealed value's <code>."""
    reveal_button(page, name).click()
    revealed = page.locator(f"code#revealed-{name}")
    expect(revealed).to_be_visible()
    return revealed


def history_button(page: Page, name) -> Locator:
    unfold(page, name)
    return row(page, name).get_by_role("button", name=f"History of {name}", exact=True)


def versions_table(page: Page, name) -> Locator:
    """The table of versions in the secret's open history."""
    return row(page, name).get_by_role("table", name=f"Versions of {name}")


def open_history(page: Page, name) -> Locator:
    """Press History; returns the table of versions."""
    history_button(page, name).click()
    table = versions_table(page, name)
    expect(table).to_be_visible()
    expect(history_button(page, name)).to_have_attribute("aria-expanded", "true")
    return table


def nav_menu_link(page: Page, name) -> Locator:
    return page.locator("details.nav-menu").get_by_role("link", name=name)


# Keyboard


def is_focused(locator: Locator):
    return locator.evaluate("element => element === document.activeElement")


def press_until_focused(page: Page, locator: Locator, key="Tab", limit=60):
    """Press Tab (or Shift+Tab) until ``locator`` has the focus."""
    for _ in range(limit):
        if locator.count() == 1 and is_focused(locator):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} never reached {locator}")


# Screenshots and accessibility


def snap(page: Page, name, full_page=True):
    """Save a screenshot of this state under playwright_tests/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def assert_accessible(page: Page, state):
    """Run axe-core on the whole page and fail on any violation, and on any
    colour contrast it could not decide ("incomplete": a 1:1 contrast is filed there)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """async () => {
            const results = await axe.run(document);
            // Datasette's own header and footer (on a gradient axe cannot measure) are not this plugin's.
            const ours = node => !document.querySelector(node.target[0])?.closest("header.hd, footer.ft");
            const contrast = results.incomplete.filter(r => r.id === "color-contrast")
                .map(r => ({...r, nodes: r.nodes.filter(ours)})).filter(r => r.nodes.length);
            return {violations: results.violations, incomplete: contrast};
        }"""
    )
    violations = results["violations"] + results["incomplete"]
    details = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]\n"
        + "\n".join(
            f"    at {node['target']}: {node['failureSummary'] or undecided(node)}" for node in v["nodes"]
        )
        for v in violations
    )
    assert not violations, (
        f"axe-core found {len(violations)} violation(s) or undecided contrast in the {state} state:\n{details}"
    )


def undecided(node):
    """Why axe-core could not decide a node's contrast (its incomplete result's message)."""
    return "; ".join(check.get("message", "") for check in node.get("any", [])) or "undecided"


# Contrast of every visible button (WCAG AA: 4.5:1 for text under 18.66px bold / 24px).
# The background is the first opaque one up the tree, with translucent ones composited
# over it; each colour of a gradient counts. Disabled buttons are exempt (WCAG 1.4.3).

BUTTONS = (
    "button, input[type=submit], input[type=button], input[type=reset], [role=button],"
    " a.secret-primary, a.secret-button, a.secret-cancel"
)

CONTRASTS_JS = """
([root, selector]) => {
  const parse = text => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The backgrounds a text may sit on: translucent layers composited down to the first opaque one.
  const backgrounds = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      const gradient = style.backgroundImage.match(/rgba?\\([^)]+\\)/g);
      if (gradient) return gradient.map(stop => layers.reduceRight((c, layer) => over(layer, c), parse(stop)));
      const colour = parse(style.backgroundColor);
      if (colour && colour[3] > 0) {
        if (colour[3] >= 1) return [layers.reduceRight((c, layer) => over(layer, c), colour)];
        layers.push(colour);
      }
    }
    return [layers.reduceRight((c, layer) => over(layer, c), [255, 255, 255, 1])];
  };
  const buttons = root && root.matches(selector) ? [root] : [...(root || document).querySelectorAll(selector)];
  return buttons
    .filter(e => !e.disabled && e.checkVisibility({opacityProperty: true, visibilityProperty: true}))
    .filter(e => { const box = e.getBoundingClientRect(); return box.width > 2 && box.height > 2; })
    .map(e => {
      const style = getComputedStyle(e);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const under = backgrounds(e);
      const fg = parse(style.color);
      const worst = Math.min(...under.map(bg => ratio(over(fg, bg), bg)));
      return {
        name: (e.getAttribute("aria-label") || e.value || e.innerText || "").trim().slice(0, 60),
        html: e.outerHTML.slice(0, 100), color: style.color,
        background: under.map(c => `rgb(${c.slice(0, 3).map(Math.round).join(", ")})`).join(" .. "),
        ratio: Math.round(worst * 100) / 100, needed,
      };
    });
}
"""


def button_contrasts(page: Page, within: Locator | None = None):
    """[{name, color, background, ratio, needed}] for every visible, enabled button
    (in ``within``, or ``within`` itself when it is a button)."""
    root = within.element_handle() if within is not None else None
    return page.evaluate(CONTRASTS_JS, [root, BUTTONS])


def assert_buttons_readable(page: Page, state, hover: Locator | None = None):
    """Every visible button's text stands out from its background (WCAG AA), as the
    mouse leaves it and, for the buttons inside ``hover``, with the mouse over each."""
    page.mouse.move(0, 0)
    contrasts = button_contrasts(page)
    assert contrasts, f"no visible button in the {state} state"
    faint = [c for c in contrasts if c["ratio"] < c["needed"]]
    if hover is not None:
        for button in hover.locator(BUTTONS).filter(visible=True).all():
            if button.is_disabled():
                continue
            button.hover()
            faint += [
                {**c, "name": c["name"] + " (hovered)"}
                for c in button_contrasts(page, button)
                if c["ratio"] < c["needed"]
            ]
        page.mouse.move(0, 0)
    assert not faint, f"buttons too faint to read in the {state} state:\n" + "\n".join(
        f"- {c['name']!r}: {c['color']} on {c['background']} = {c['ratio']}:1 (needs {c['needed']}:1) {c['html']}"
        for c in faint
    )


def assert_no_horizontal_overflow(page: Page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"the page is {scroll_width}px wide in a {width}px viewport: it scrolls sideways"
    )
