"""Small page helpers shared by the browser tests."""

from playwright.sync_api import Locator, Page, expect


def dialog(page: Page) -> Locator:
    """The one <dialog> of base.html that every htmx dialog loads into."""
    return page.locator("#dialog")


def expect_dialog_closed(page: Page) -> None:
    """Success closes the dialog, and closing empties it."""
    expect(dialog(page)).not_to_be_visible()
    expect(dialog(page)).to_be_empty()
