"""The benchmark's floor view (bench/floor.py, served by bench.urls): it replays the SQL our IAM partial ran,
with the same parameters, and shows the same rows in a bare table. Nothing here is timed."""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import floor
from iam_portal.identities.models import User
from tests.helpers import seed_scale

HX = {"HX-Request": "true"}


def test_parameters_survive_the_json_file():
    when = datetime.datetime(2026, 11, 30, 16, 7, 57, 613510, tzinfo=datetime.UTC)
    positional = [
        when,
        when.date(),
        when.time(),
        uuid.uuid4(),
        Decimal("1.50"),
        None,
        True,
        3,
        0.5,
        "x",
        [1, 2],
    ]
    named = {"company": 3, "until": when, "role": "guest"}
    for params in (positional, named, None, []):
        assert floor.params_decode(json.loads(json.dumps(floor.params_encode(params)))) == params
    with pytest.raises(TypeError, match="bytes"):
        floor.params_encode([b"raw"])


@pytest.mark.django_db
def test_floor_view_replays_the_iam_partial_sql_and_shows_its_rows(settings, tmp_path):
    seed_scale("tiny")
    User.objects.filter(email="user-1@tiny.test").update(full_name="<i>Ann & Bob</i>")
    owner = User.objects.get(email="owner@tiny.test")
    path = "/companies/tiny/iam/"
    statements, writes = floor.statements_capture(owner, path, HX)
    assert statements and writes == 0
    assert any(isinstance(params, dict) for _, params in statements), "the resolver's named parameters too"
    client = Client()
    client.force_login(owner)
    ours = client.get(path, headers=HX).content.decode()
    file_name = str(tmp_path / "statements.json")
    floor.statements_save(statements, file_name)

    settings.ROOT_URLCONF = "bench.urls"
    settings.BENCH_FLOOR_STATEMENTS = file_name
    with CaptureQueriesContext(connection) as ran:
        response = Client().get("/bench/floor/")  # no session: the floor does no sign-in work
    assert response.status_code == 200
    page = response.content.decode()
    assert len(ran.captured_queries) == len(statements)  # the same statements and nothing else
    # The same rows as our table (the tiny company fits on one page: its users, groups and SAs).
    assert page.count("<tr>") == len(re.findall(r'<tr id="identity-', ours)) == 31 + 5 + 3
    assert "&lt;i&gt;Ann &amp; Bob&lt;/i&gt;" in page and "<i>" not in page  # cells are escaped
    assert client.get(path, headers=HX).status_code == 200  # the product's URLs are served beside it


@pytest.mark.django_db
def test_floor_view_without_statements_is_not_found(settings):
    settings.ROOT_URLCONF = "bench.urls"
    settings.BENCH_FLOOR_STATEMENTS = ""
    assert Client().get("/bench/floor/").status_code == 404
