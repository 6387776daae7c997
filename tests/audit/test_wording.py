"""Every kind of event in a sentence, refusals included, from the snapshots alone; and any stored
before/after, however odd, still reads."""

import pytest

from iam_portal.audit.models import Action, AuditEvent
from iam_portal.audit.wording import DONE, TRIED, event_changes, event_sentence


def event(action, *, outcome="success", subject=("user", "Jun One"), before=None, after=None, **fields):
    values = {
        "actor_kind": "user",
        "actor_name": "Olivia Owner",
        "company_name": "Acme",
        "resource_name": "Webshop",
        "resource_path": "acme/webshop",
        "subject_kind": subject[0],
        "subject_name": subject[1],
        "subject_id": 7,
        "message": "",
        **fields,
    }
    return AuditEvent(action=action, outcome=outcome, before=before, after=after, **values)


GROUP = ("group", "Acme Developers")
SA = ("service-account", "ci-deployer")
CASES = [
    (
        Action.ROLE_GRANTED,
        {},
        None,
        {"role": "developer"},
        "Olivia Owner gave Jun One the Developer role on Webshop",
    ),
    (
        Action.ROLE_CHANGED,
        {},
        {"role": "developer"},
        {"role": "maintainer"},
        "Olivia Owner changed Jun One's role on Webshop from Developer to Maintainer",
    ),
    (
        Action.ROLE_CHANGED,
        {"subject": GROUP},
        {"role": "guest"},
        {"role": "reporter"},
        "Olivia Owner changed the group Acme Developers' role on Webshop from Guest to Reporter",
    ),
    (
        Action.ROLE_REMOVED,
        {},
        {"role": "developer"},
        None,
        "Olivia Owner removed Jun One's Developer role on Webshop",
    ),
    (
        Action.ROLE_ENDED,
        {"actor_kind": "command"},
        {"role": "developer"},
        None,
        "Jun One's Developer role on Webshop ended",
    ),
    (
        Action.ROLE_ENDED,
        {},
        {"role": "maintainer", "until": "2026-12-04T17:00:00+00:00", "then": "developer"},
        {"role": "developer"},
        "Olivia Owner ended Jun One's Maintainer role on Webshop",
    ),
    (
        Action.ROLE_CHANGED,
        {},
        {"role": "maintainer", "until": "2026-12-04T17:00:00+00:00"},
        {"role": "maintainer", "until": "2026-12-11T17:00:00+00:00"},
        "Olivia Owner moved the end of Jun One's Maintainer role on Webshop to 11 Dec 2026, 17:00",
    ),
    (Action.USER_ADDED, {}, None, {"role": "guest"}, "Olivia Owner added Jun One to Acme as Guest"),
    (Action.USER_REMOVED, {}, {"roles": []}, None, "Olivia Owner removed Jun One from Acme"),
    (Action.DIRECT_ACCESS_REMOVED, {}, None, None, "Olivia Owner removed Jun One's direct access to Acme"),
    (
        Action.GROUP_CREATED,
        {"subject": GROUP},
        None,
        {"name": "Acme Developers", "role": "developer", "members": ["a@x.test", "b@x.test"]},
        "Olivia Owner created the group Acme Developers with the Developer role and 2 members",
    ),
    (
        Action.GROUP_RENAMED,
        {"subject": GROUP},
        {"name": "Devs"},
        {"name": "Acme Developers"},
        "Olivia Owner renamed the group Devs to Acme Developers",
    ),
    (
        Action.GROUP_DELETED,
        {"subject": GROUP},
        {"name": "x"},
        None,
        "Olivia Owner deleted the group Acme Developers",
    ),
    (Action.MEMBER_ADDED, {}, None, {"group": "Ops"}, "Olivia Owner added Jun One to the group Ops"),
    (Action.MEMBER_REMOVED, {}, {"group": "Ops"}, None, "Olivia Owner removed Jun One from the group Ops"),
    (
        Action.SERVICE_ACCOUNT_CREATED,
        {"subject": SA},
        None,
        {"role": "reporter"},
        "Olivia Owner created the service account ci-deployer with the Reporter role",
    ),
    (
        Action.SERVICE_ACCOUNT_DELETED,
        {"subject": SA},
        None,
        None,
        "Olivia Owner deleted the service account ci-deployer",
    ),
    (
        Action.SECRET_ROTATED,
        {"subject": SA},
        None,
        None,
        "Olivia Owner issued a new client secret for the service account ci-deployer",
    ),
    (
        Action.KEY_REPLACED,
        {"subject": SA},
        None,
        None,
        "Olivia Owner replaced the public key of the service account ci-deployer",
    ),
    (
        Action.TOKEN_ISSUED,
        {"actor_kind": "service-account", "actor_name": "ci-deployer"},
        None,
        None,
        "ci-deployer obtained an access token",
    ),
    (Action.SIGNIN_SUCCEEDED, {}, None, None, "Olivia Owner signed in"),
    (
        Action.SIGNIN_FAILED,
        {"subject": ("", "")},
        None,
        {"email": "x@y.test"},
        "A sign-in as x@y.test failed",
    ),
    (Action.SIGNIN_LOCKED_OUT, {}, None, None, "Jun One was locked out after too many failed sign-ins"),
    (
        Action.AUDIT_PRUNED,
        {"actor_kind": "command", "subject": ("", "")},
        None,
        {"deleted": 12, "cutoff": "2026-06-03T10:00:00+00:00"},
        "The command line deleted 12 audit events older than 2026-06-03",
    ),
]


def test_every_action_has_words():
    assert set(DONE) == set(Action)
    assert set(TRIED) <= set(Action)


@pytest.mark.parametrize("action, fields, before, after, expected", CASES)
def test_sentences(action, fields, before, after, expected):
    fields = dict(fields)
    subject = fields.pop("subject", ("user", "Jun One"))
    assert event_sentence(event(action, subject=subject, before=before, after=after, **fields)) == expected


@pytest.mark.parametrize(
    "action, subject, after, expected",
    [
        (
            Action.ROLE_CHANGED,
            ("user", "Paula Manager"),
            {"role": "company-owner"},
            "change Paula Manager's role on Webshop to Company Owner",
        ),
        (
            Action.ROLE_CHANGED,
            ("user", "Jun One"),
            {"project_role": "project-admin"},
            "change Jun One's role on Webshop to Project Administrator",
        ),
        (
            Action.USER_ADDED,
            ("", ""),
            {"email": "n@x.test", "role": "guest"},
            "add n@x.test to Acme as Guest",
        ),
        (
            Action.GROUP_CREATED,
            ("", ""),
            {"name": "Ops", "role": "guest"},
            "create the group Ops with the Guest role",
        ),
        (
            Action.MEMBER_ADDED,
            GROUP,
            {"emails": ["a@x.test", "b@x.test"]},
            "add a@x.test, b@x.test to the group Acme Developers",
        ),
        (Action.MEMBER_REMOVED, ("user", "Jun One"), {"group": "Ops"}, "remove Jun One from the group Ops"),
        (Action.GROUP_DELETED, GROUP, None, "delete the group Acme Developers"),
        (Action.SERVICE_ACCOUNT_CREATED, ("", ""), {"name": "bot"}, "create the service account bot"),
        (Action.SIGNIN_SUCCEEDED, ("", ""), None, "do this: signed in"),
    ],
)
def test_refusals_say_what_was_tried_and_why(action, subject, after, expected):
    refused = event(action, outcome="refused", subject=subject, after=after, message="Not allowed.")
    assert event_sentence(refused) == f"Olivia Owner tried to {expected} — refused: Not allowed."


def test_actors_that_are_not_accounts():
    for kind, name in (
        ("command", "The command line"),
        ("identity-provider", "The identity provider"),
        ("anonymous", "Someone who was not signed in"),
    ):
        assert event_sentence(event(Action.SIGNIN_SUCCEEDED, actor_kind=kind)) == f"{name} signed in"


@pytest.mark.parametrize(
    "odd", [None, [], "text", 12, {"role": 5}, {"role": None, "members": "x"}, {"{actor}": "{x}"}]
)
def test_any_stored_before_and_after_still_reads(odd):
    for action in Action:
        for outcome in ("success", "refused"):
            e = event(action, outcome=outcome, before=odd, after=odd, resource_name="", company_name="")
            assert isinstance(event_sentence(e), str)
            assert all(isinstance(cell, str) for row in event_changes(e) for cell in row)


def test_changes_in_words():
    e = event(
        Action.USER_REMOVED,
        before={
            "roles": [{"role": "guest", "on": "acme"}, {"role": "developer", "on": "acme/webshop"}],
            "groups": ["Ops", "Devs"],
        },
        after={"environment_roles": {"production": "reporter", "staging": None}, "zeta": 1},
    )
    assert event_changes(e) == [
        ("Environment roles", "—", "production: Reporter; staging: no role"),
        ("Groups", "Ops, Devs", "—"),
        ("Roles", "Guest on acme; Developer on acme/webshop", "—"),
        ("Zeta", "—", "1"),
    ]


def test_a_time_limited_roles_end_and_the_role_after_it_in_words():
    e = event(
        Action.ROLE_CHANGED,
        before={"role": "developer"},
        after={"role": "maintainer", "until": "2026-12-04T17:00:00+00:00", "then": "developer"},
    )
    assert event_changes(e) == [
        ("Role", "Developer", "Maintainer"),
        ("Until", "—", "4 Dec 2026, 17:00"),
        ("Then", "—", "Developer"),
    ]
    assert event_sentence(e) == (
        "Olivia Owner changed Jun One's role on Webshop from Developer to Maintainer until 4 Dec 2026, 17:00"
    )
