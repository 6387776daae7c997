"""What every page does the same way, in a real browser as owner@acme.test: Back restores whole pages, nothing
but a table scrolls sideways at 390 px, focus goes back to what opened a dialog, a double click posts once,
the tab title follows a rename, the focus ring stands out, the company menu closes on Escape, and without
JavaScript a dialog's Close works and saving keeps the table's filters."""

import re

import pytest
from playwright.sync_api import Page, expect

from iam_portal.access.models import RoleBinding
from iam_portal.identities.models import Group
from tests.helpers import (
    PORTAL_DIALOGS,
    PORTAL_PAGES,
    TABLE_PAGES,
    dialog,
    expect_dialog_closed,
    expect_settled,
    open_dialog,
    portal_url,
    submit_company_role,
)

OWNER = "owner@acme.test"
IAM = "/companies/acme/iam/"


def expect_whole_page(page: Page, heading: str) -> None:
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_role("navigation", name="Acme")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


# -- Back (issue 9, item 1) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "search"),
    [
        ("IAM", "dana"),
        ("Users", "dana"),
        ("Service accounts", "metrics"),
        ("group detail", "jun"),
        ("Project IAM", "dana"),
    ],
)
def test_back_restores_the_whole_page(signed_in, url, demo, name, search):
    page = signed_in(OWNER)
    start = url(portal_url(demo, TABLE_PAGES[name]))
    page.goto(start)
    heading = page.get_by_role("heading", level=1).inner_text()

    searched = re.compile(rf"\?q={search}&(type=&)?sort=name$")
    page.get_by_role("searchbox").fill(search)
    expect(page).to_have_url(searched)
    page.locator("thead").get_by_role("link", name="Name").click()  # sorted by name: this reverses it
    expect(page).to_have_url(re.compile(rf"\?q={search}&(type=&)?sort=-name$"))

    page.go_back()
    expect(page).to_have_url(searched)
    expect_whole_page(page, heading)
    expect(page.get_by_role("searchbox")).to_have_value(search)
    page.go_back()
    expect(page).to_have_url(start)
    expect_whole_page(page, heading)

    # Forward, away to another page, and Back again.
    page.go_forward()
    expect(page).to_have_url(searched)
    expect_whole_page(page, heading)
    expect_settled(page)  # htmx restores the page from its history: a click during that can be lost
    page.get_by_role("navigation", name="Acme").get_by_role("link", name="Overview", exact=True).click()
    expect(page).to_have_url(url("/companies/acme/"))
    page.go_back()
    expect_whole_page(page, heading)


# -- 390 px (item 4) ----------------------------------------------------------------------------------

WIDE_TABLES = ("IAM", "Users", "Service accounts", "Project IAM")


def test_at_390_px_only_the_tables_scroll_sideways(page, signed_in, url, demo):
    page.set_viewport_size({"width": 390, "height": 800})
    signed_in(OWNER)
    overflowing = {}
    for name, template in {**PORTAL_PAGES, **PORTAL_DIALOGS}.items():
        page.goto(url(portal_url(demo, template)))
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            overflowing[name] = width
        for toolbar in page.locator(".toolbar, .page-header, .table-meta").all():
            box = toolbar.bounding_box()
            if box["x"] + box["width"] > 390 or toolbar.evaluate("el => el.scrollWidth > el.clientWidth"):
                overflowing[f"{name}: {toolbar.get_attribute('class')}"] = box["x"] + box["width"]
    assert overflowing == {}

    for name in WIDE_TABLES:
        page.goto(url(portal_url(demo, TABLE_PAGES[name])))
        frame = page.locator(".table-wrap")
        # The table is wider than the screen and scrolls inside its frame, which stays on screen.
        assert frame.evaluate("el => el.scrollWidth > el.clientWidth"), name
        box = frame.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, name
        frame.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        last = page.locator("tbody tr").first.locator("td").last.bounding_box()
        assert last["x"] >= 0 and last["x"] + last["width"] <= 390, name  # scrolled into sight

    page.goto(url("/companies/acme/projects/webshop/iam/"))
    open_dialog(page.locator("tbody").get_by_role("link", name="Edit").first, "Edit project roles")
    box = dialog(page).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


# -- focus after a dialog (item 7) -----------------------------------------------------------------------


def test_focus_returns_to_what_opened_the_dialog(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url(IAM))
    dana = demo.user("designer1")
    row = page.locator(f"#identity-user-{dana.pk}")

    # Saved: the table reloads, and focus lands on the new copy of the Edit link.
    edit = row.get_by_role("link", name="Edit")
    open_dialog(edit, "Edit company role")
    submit_company_role(page, "Reporter", "Save")
    expect_dialog_closed(page)
    expect(row.locator(".role")).to_have_text("Reporter")
    expect(edit).to_be_focused()

    # Cancelled, with the button or with Escape.
    remove = row.get_by_role("link", name="Remove")
    open_dialog(remove, "Remove direct access")
    dialog(page).get_by_role("link", name="Cancel").click()
    expect(dialog(page)).not_to_be_visible()
    expect(remove).to_be_focused()
    open_dialog(remove, "Remove direct access")
    page.keyboard.press("Escape")
    expect(dialog(page)).not_to_be_visible()
    expect(remove).to_be_focused()

    # Deleted: the row is gone, focus stays with its table rather than falling to <body>.
    page.goto(url("/companies/acme/service-accounts/"))
    account = page.locator(f"#service-account-{demo.reader.pk}")
    open_dialog(account.get_by_role("link", name="Delete"), "Delete service account")
    dialog(page).get_by_role("button", name="Delete").click()
    expect_dialog_closed(page)
    expect(account).to_have_count(0)
    expect(page.locator("#service-accounts-table")).to_be_focused()


def test_the_company_menu_closes_on_escape_and_outside_clicks(signed_in, url):
    page = signed_in(OWNER)
    page.goto(url(IAM))
    menu = page.locator(".switcher details")
    summary = menu.locator("summary")
    expect(summary).to_have_accessible_name(re.compile(r"^Acme"))

    summary.click()
    expect(menu.get_by_role("link", name="Acme")).to_be_visible()
    page.keyboard.press("Tab")  # into the menu
    page.keyboard.press("Escape")
    expect(menu.get_by_role("link", name="Acme")).to_be_hidden()
    expect(summary).to_be_focused()

    summary.click()
    expect(menu.get_by_role("link", name="Acme")).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(menu.get_by_role("link", name="Acme")).to_be_hidden()


# -- one click, one POST (item 8) ------------------------------------------------------------------------


def test_double_clicking_a_submit_button_posts_once(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url("/companies/acme/groups/"))
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    open_dialog(page.get_by_role("link", name="Create group"), "Create group")
    dialog(page).get_by_label("Name").fill("Release Team")
    dialog(page).get_by_role("button", name="Create group").dblclick()
    expect_dialog_closed(page)
    group = Group.objects.get(company=demo.acme, name="Release Team")
    # The table has reloaded since: a second POST, queued behind the first, would have been sent by now.
    expect(page.locator(f"#group-{group.pk}")).to_be_visible()
    assert posts == [url("/companies/acme/groups/create/")]
    expect(dialog(page)).not_to_be_visible()


# -- the tab title (item 11) -------------------------------------------------------------------------------


def test_renaming_a_group_renames_the_tab(signed_in, url, demo):
    page = signed_in(OWNER)
    page.goto(url(f"/companies/acme/groups/{demo.developers.pk}/"))
    expect(page).to_have_title("Acme Developers · Groups · Acme · IAM Portal")

    edit = page.locator("#group-header").get_by_role("link", name="Edit", exact=True)
    open_dialog(edit, "Edit group")
    dialog(page).get_by_label("Name").fill("Platform Team")
    dialog(page).get_by_role("button", name="Save").click()
    expect_dialog_closed(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform Team")
    expect(page).to_have_title("Platform Team · Groups · Acme · IAM Portal")
    expect(edit).to_be_focused()


# -- the focus ring (item 36) --------------------------------------------------------------------------

FOCUSABLE = {
    "a link in the page": "main .actions a.button",
    "a sidebar link": ".sidebar a",
    "the search box": "main input[type=search]",
    "a sort header": "thead a",
    "the table frame": ".table-wrap",
    "the company menu": ".switcher summary",
    "sign out (on the dark top bar)": ".topbar button",
}
RING = """el => {
    const ring = getComputedStyle(el);
    let behind = "rgb(255, 255, 255)";
    for (let up = el.parentElement; up; up = up.parentElement) {
        const background = getComputedStyle(up).backgroundColor;
        if (!/^rgba\\(.*, 0\\)$/.test(background) && background !== "transparent") { behind = background; break; }
    }
    return {visible: el.matches(":focus-visible"), style: ring.outlineStyle, width: parseFloat(ring.outlineWidth),
            color: ring.outlineColor, behind: behind};
}"""


def contrast(first: str, second: str) -> float:
    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_focus_ring_contrasts_with_what_surrounds_it(signed_in, url):
    page = signed_in(OWNER)
    page.goto(url(IAM))
    page.keyboard.press("Tab")  # keyboard use: focus rings show
    weak = {}
    for name, selector in FOCUSABLE.items():
        element = page.locator(selector).first
        element.focus()
        ring = element.evaluate(RING)
        assert ring["visible"] and ring["style"] == "solid" and ring["width"] >= 2, (name, ring)
        if contrast(ring["color"], ring["behind"]) < 3:
            weak[name] = (
                f"{ring['color']} on {ring['behind']}: {contrast(ring['color'], ring['behind']):.1f}:1"
            )
    open_dialog(page.get_by_role("link", name="Add user"), "Add user")
    for name, element in {
        "a dialog field": dialog(page).get_by_label("Email"),
        "Cancel": dialog(page).get_by_role("link", name="Cancel"),
    }.items():
        element.focus()
        ring = element.evaluate(RING)
        if contrast(ring["color"], ring["behind"]) < 3:
            weak[name] = f"{ring['color']} on {ring['behind']}"
    assert weak == {}


# -- without JavaScript (item 10) ----------------------------------------------------------------------------


def test_without_javascript_close_works_and_saving_keeps_the_filters(nojs_page, signed_in, url, demo):
    page = signed_in(OWNER, page=nojs_page)
    dana = demo.user("designer1")
    filtered = url(f"{IAM}?q=dana&sort=-role")
    page.goto(filtered)
    row = page.locator(f"#identity-user-{dana.pk}")

    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit company role")
    page.get_by_role("link", name="Close").click()
    expect(page).to_have_url(filtered)

    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Company role").select_option("reporter")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(filtered)
    expect(page.get_by_role("searchbox")).to_have_value("dana")
    expect(page.locator("#iam-count")).to_contain_text("1 identity matching “dana”")
    expect(row.locator(".role")).to_have_text("Reporter")
    assert RoleBinding.objects.get(user=dana, company=demo.acme).role == "reporter"

    row.get_by_role("link", name="Remove").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(filtered)
