"""Concurrent identical writes (issue 9 #21) end like a sequential retry: an idempotent success or a clear
message, never an IntegrityError or "database is locked" 500.

On PostgreSQL, real threads post the same request at the same moment. On SQLite, a separate process runs the
real settings against a database file, with threads changing owners and members at once."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from iam_portal.access.catalogue import DEVELOPER, GUEST, MAINTAINER
from iam_portal.access.models import RoleBinding
from iam_portal.audit.models import Action, AuditEvent
from iam_portal.identities.models import GroupMembership
from tests.helpers import HX

THREADS = 10
postgresql_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL: the SQLite race runs in test_sqlite_file_database_never_says_locked",
)


def post_at_once(user, url: str, data: dict) -> list:
    """THREADS signed-in clients post the same form at the same moment; returns their responses."""
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(THREADS, timeout=20)
    responses: list = []

    def post(client):
        try:
            barrier.wait()
            responses.append(client.post(url, data, headers=HX))
        except Exception as exc:  # an IntegrityError escaping the view lands here
            responses.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return responses


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_same_member_added_ten_times_at_once(demo, newcomer):
    url = reverse("group_add_members", args=["acme", demo.developers.pk])
    responses = post_at_once(demo.user("owner"), url, {"emails": newcomer.email})
    assert [getattr(r, "status_code", r) for r in responses] == [204] * THREADS
    levels = sorted(json.loads(r["HX-Trigger"])["showMessage"]["level"] for r in responses)
    assert levels == ["info"] * (THREADS - 1) + ["success"]  # nine "already a member"
    assert GroupMembership.objects.filter(group=demo.developers, user=newcomer).count() == 1
    assert AuditEvent.objects.filter(action=Action.MEMBER_ADDED, subject_id=newcomer.pk).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_same_user_added_ten_times_at_once(demo, newcomer):
    url = reverse("company_user_add", args=["acme"])
    responses = post_at_once(demo.user("owner"), url, {"email": newcomer.email, "role": GUEST})
    statuses = sorted(getattr(r, "status_code", r) for r in responses)
    assert statuses == [200] * (THREADS - 1) + [204]
    for refused in (r for r in responses if r.status_code == 200):
        assert "already has direct access to Acme" in refused.content.decode()
    assert RoleBinding.objects.filter(user=newcomer, company=demo.acme).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_same_binding_created_ten_times_at_once(demo):
    designer = demo.user("designer1")
    url = reverse("project_role_edit", args=["acme", "webshop", "user", designer.pk])
    data = {"project_role": DEVELOPER, f"env_{demo.production.pk}": MAINTAINER, f"env_{demo.staging.pk}": ""}
    responses = post_at_once(demo.user("owner"), url, data)
    assert [getattr(r, "status_code", r) for r in responses] == [204] * THREADS
    assert RoleBinding.objects.get(user=designer, environment=demo.production).role == MAINTAINER
    granted = AuditEvent.objects.filter(action=Action.ROLE_GRANTED, subject_id=designer.pk)
    assert granted.count() == 1  # the nine others found nothing left to change


# -- SQLite: the embedded default, as a local run configures it ----------------------------------------

SQLITE_RUN = r"""
import json, sys, threading
import django
django.setup()
from django.core.management import call_command
from django.core.exceptions import PermissionDenied
from django.db import connection
call_command("migrate", verbosity=0)
call_command("seed_demo", stdout=open("/dev/null", "w"))
from iam_portal.access.catalogue import COMPANY_OWNER, DEVELOPER, GUEST
from iam_portal.access.services import ActionRefused, company_role_set
from iam_portal.identities import services
from iam_portal.identities.models import Group, User
from iam_portal.orgs.models import Company

acme = Company.objects.get(slug="acme")
owner = User.objects.get(email="owner@acme.test")
developers = Group.objects.get(company=acme, name="Acme Developers")
team = list(User.objects.filter(email__contains="@acme.test").exclude(pk=owner.pk).exclude(is_superuser=True))
company_role_set(actor=owner, company=acme, subject=team[0], role=COMPANY_OWNER)
barrier = threading.Barrier(12, timeout=30)
outcomes = []

def run(job):
    try:
        barrier.wait()
        job()
        outcomes.append("ok")
    except (ActionRefused, PermissionDenied):
        outcomes.append("refused")
    except Exception as exc:
        outcomes.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()

jobs = [lambda u=u: company_role_set(actor=owner, company=acme, subject=u, role=DEVELOPER) for u in team[1:6]]
jobs += [lambda: company_role_set(actor=owner, company=acme, subject=team[0], role=GUEST)] * 2
jobs += [lambda: company_role_set(actor=team[0], company=acme, subject=owner, role=GUEST)]
jobs += [lambda: services.group_members_add(actor=owner, group=developers, emails=[team[0].email])] * 4
threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
for t in threads: t.start()
for t in threads: t.join(60)
owners = sorted(u.email for u in User.objects.filter(role_bindings__company=acme, role_bindings__role=COMPANY_OWNER))
print(json.dumps({"outcomes": outcomes, "owners": owners, "alive": sum(t.is_alive() for t in threads)}))
"""


def test_sqlite_file_database_never_says_locked(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "iam_portal.settings",
        "SECRET_KEY": "tests-only-not-a-secret",
    }
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", SQLITE_RUN], env=env, cwd=root, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["alive"] == 0
    errors = [o for o in result["outcomes"] if o not in ("ok", "refused")]
    assert errors == []
    assert len(result["outcomes"]) == 12
    assert len(result["owners"]) >= 1
