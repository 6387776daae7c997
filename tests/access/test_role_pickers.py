"""Role pickers say what each role allows at the level it is given (issue 13): every option reads
"<Role> — <what it allows>", from the catalogue in one place, and under the picker the full list for the
chosen role, refreshed by htmx when the choice changes and right for the initial choice without it."""

import pytest
from django.urls import reverse

from iam_portal.access import catalogue
from iam_portal.access.catalogue import Level
from tests.helpers import HX, PORTAL_DIALOGS, parse_html, portal_url

# Written out by hand from the catalogue's permission tables.
SUMMARIES = {
    ("guest", Level.COMPANY): "Guest — sees the company",
    ("reporter", Level.COMPANY): "Reporter — as Guest, and sees every project, sees every environment",
    (
        "developer",
        Level.COMPANY,
    ): "Developer — as Reporter, and creates service repositories, edits configuration",
    (
        "maintainer",
        Level.COMPANY,
    ): "Maintainer — as Developer, and deploys, restarts pods, creates and deletes jobs",
    ("company-owner", Level.COMPANY): (
        "Company Owner — as Project Administrator, and manages the company's identities, edits the company, "
        "creates projects, deletes the company"
    ),
    ("guest", Level.PROJECT): "Guest — sees the project",
    ("reporter", Level.PROJECT): "Reporter — as Guest, and sees every environment",
    ("project-admin", Level.PROJECT): (
        "Project Administrator — as Maintainer, and manages secret variables, edits the project, deletes "
        "configuration versions, manages project identities, manages dashboards"
    ),
    ("reporter", Level.ENVIRONMENT): "Reporter — sees the environment",
    (
        "maintainer",
        Level.ENVIRONMENT,
    ): "Maintainer — as Reporter, and deploys, restarts pods, creates and deletes jobs",
}


@pytest.mark.parametrize(("role", "level"), list(SUMMARIES))
def test_each_role_is_summed_up_at_its_level(role, level):
    assert catalogue.role_summary(role, level) == SUMMARIES[(role, level)]


def test_the_full_list_of_a_role_groups_its_capabilities_by_what_they_are_about():
    assert catalogue.role_allows("maintainer", Level.PROJECT) == [
        (
            "On the project",
            [
                "View the project",
                "View every environment of the project",
                "Create service repositories",
                "Commit configuration changes",
            ],
        ),
        (
            "On every environment of the project",
            [
                "View the environment",
                "Deploy to the environment",
                "Restart pods",
                "Create jobs",
                "Delete jobs",
            ],
        ),
    ]
    assert catalogue.role_allows("reporter", Level.ENVIRONMENT) == [
        ("On the environment", ["View the environment"])
    ]


ROLE_FIELDS = {"role": Level.COMPANY, "company_role": Level.COMPANY, "project_role": Level.PROJECT}


def role_selects(html: str) -> list:
    """(select element, its level, [(option value, option text)], the value chosen, and the summary of the
    role-allows list under it)."""
    elements = parse_html(html)
    found = []
    for select in (e for e in elements if e.tag == "select"):
        name = select.attrs["name"]
        level = ROLE_FIELDS.get(name, Level.ENVIRONMENT if name.startswith("env_") else None)
        if level is None:
            continue
        listed = [o for o in elements if o.tag == "option" and o.inside(select)]
        options = [(o.attrs["value"], "".join(o.text).strip()) for o in listed]
        chosen = next((o.attrs["value"] for o in listed if "selected" in o.attrs), listed[0].attrs["value"])
        field = select.parents[-1]
        [summary] = [
            e
            for e in elements
            if e.tag == "summary" and e.inside(field) and e.parents[-1].has_class("role-allows")
        ]
        found.append((select, level, options, chosen, "".join(summary.text).strip()))
    return found


def test_every_role_picker_of_every_dialog_says_what_each_role_allows(demo, login):
    client = login("owner")
    pickers = 0
    for name, template in PORTAL_DIALOGS.items():
        html = client.get(portal_url(demo, template)).content.decode()
        for select, level, options, chosen, summary in role_selects(html):
            pickers += 1
            # Roles that add nothing here carry a note after their name ("Guest (already inherited) — …").
            roles = [(value, text.replace(" (already inherited)", "")) for value, text in options if value]
            assert roles == [
                (r, catalogue.role_summary(r, level)) for r in catalogue.ROLES_BY_LEVEL[level]
            ], name
            assert select.attrs["hx-get"] == reverse("role_allows", args=[level.value])
            assert select.attrs["hx-target"] == "next .role-allows"
            assert select.attrs["hx-sync"] == "this:replace"  # never holds up the dialog's own submit
            label = catalogue.role_label(chosen)
            assert summary == (f"What {label} allows" if label else "No role chosen"), name
    # add user, edit company role (3), create and edit group, add service account, the two project adds
    # (company role, project role and two environments each) and the project role edits (3 times 3).
    assert pickers >= 24


def test_the_list_under_the_picker_follows_the_choice_the_page_came_with(demo, login):
    junior = demo.user("junior1")
    html = login("owner").get(f"/companies/acme/projects/webshop/iam/user/{junior.pk}/edit/").content.decode()
    summaries = {str(select.attrs["name"]): summary for select, _, _, _, summary in role_selects(html)}
    assert summaries == {
        "project_role": "What Developer allows",
        f"env_{demo.production.pk}": "No role chosen",
        f"env_{demo.staging.pk}": "What Maintainer allows",
    }
    assert "Deploy to the environment" in html


@pytest.mark.parametrize(
    ("level", "params", "says", "lists"),
    [
        ("company", {"role": "maintainer"}, "What Maintainer allows", "Deploy to the environment"),
        ("project", {"project_role": "guest"}, "What Guest allows", "View the project"),
        ("environment", {"env_12": "maintainer"}, "What Maintainer allows", "Restart pods"),
        ("environment", {"env_12": "developer"}, "No role chosen", "only what other roles give"),  # not there
        ("environment", {"env_12": ""}, "No role chosen", "only what other roles give"),
        ("company", {"role": "x" * 1000}, "No role chosen", "only what other roles give"),
        ("company", {}, "No role chosen", "only what other roles give"),
    ],
)
def test_the_picker_asks_for_the_list_of_the_role_chosen(demo, login, level, params, says, lists):
    response = login("owner").get(reverse("role_allows", args=[level]), params, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<summary>{says}</summary>" in html and lists in html
    assert "<details" not in html  # the body only: the open <details> stays as the person left it


def test_the_list_needs_a_known_level_and_a_signed_in_person(demo, client, login):
    assert client.get("/roles/company/allows/", {"role": "guest"}).status_code == 302
    owner = login("owner")
    assert owner.get("/roles/planet/allows/").status_code == 404
    assert owner.post("/roles/company/allows/", {"role": "guest"}).status_code == 405
