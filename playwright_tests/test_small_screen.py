"""Usable on a 375px-wide phone screen: nothing scrolls sideways."""

from helpers import (
    assert_no_horizontal_overflow,
    open_edit,
    open_history,
    open_secrets,
    reveal,
    row,
    seed,
    sign_in,
    snap,
)

WIDTH = 375
LONG_VALUE = "sk-" + "0123456789abcdefghij" * 5


def test_375_pixels_wide(new_context, server):
    context = new_context(viewport={"width": WIDTH, "height": 812})
    sign_in(context, server, "root")
    seed(context, server, "ALPHA_API_KEY", LONG_VALUE, "A note long enough to need wrapping on a phone screen")
    seed(context, server, "ALPHA_API_KEY", LONG_VALUE + "-2", "second version")
    page = context.new_page()
    open_secrets(page, server)

    assert_no_horizontal_overflow(page, WIDTH)
    snap(page, "375-wide")
    # The actions are on screen, not off to the right.
    edit = row(page, "ALPHA_API_KEY").get_by_role("link", name="Edit ALPHA_API_KEY")
    box = edit.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box

    reveal(page, "ALPHA_API_KEY")
    assert_no_horizontal_overflow(page, WIDTH)
    snap(page, "375-wide-revealed")

    open_history(page, "ALPHA_API_KEY")
    assert_no_horizontal_overflow(page, WIDTH)
    snap(page, "375-wide-history")

    open_edit(page, "BETA_TOKEN")
    assert_no_horizontal_overflow(page, WIDTH)
    snap(page, "375-wide-editing")


UNBROKEN_NOTE = "n" * 200  # the longest note, with no space to wrap at


def test_nothing_scrolls_sideways_on_any_page(new_context, start_datasette):
    """Every page under /-/secrets, with the longest name and an unbroken 200-character note."""
    from plugins.scale_secrets import LONG_NAME

    server = start_datasette(scale=True)
    context = new_context(viewport={"width": WIDTH, "height": 812})
    sign_in(context, server, "root")
    seed(context, server, LONG_NAME, LONG_VALUE, UNBROKEN_NOTE)
    seed(context, server, LONG_NAME, LONG_VALUE + "-2", UNBROKEN_NOTE)
    page = context.new_page()
    open_secrets(page, server)
    open_history(page, LONG_NAME)
    assert_no_horizontal_overflow(page, WIDTH)
    for path in (
        f"/-/secrets/{LONG_NAME}/history",
        f"/-/secrets/{LONG_NAME}/restore?version=1",
        f"/-/secrets/{LONG_NAME}/delete",
        f"/-/secrets/{LONG_NAME}",
        f"/-/secrets/-/audit?secret={LONG_NAME}",
        "/-/secrets/-/keys",
        "/-/secrets/-/import",
    ):
        page.goto(server.path(path))
        assert_no_horizontal_overflow(page, WIDTH)
