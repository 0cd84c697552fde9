"""Every route of the app, as every kind of person, checked against the access table
(tests/fixtures/access_table.py: add a row there when you add a route). POSTs carry a CSRF
token and an empty form (the status of a refused request is what matters; the form fuzzer in
test_fuzz.py posts real values)."""

from __future__ import annotations

import pytest

from tests.fixtures.access_table import ACCESS, QUERY, S
from tests.fixtures.hardening import ROLES, endpoint_rules, fill_url


def test_every_route_has_a_row(app):
    routes = set(endpoint_rules(app))
    missing = sorted(routes - set(ACCESS))
    stale = sorted(set(ACCESS) - routes)
    assert not missing, f"routes without a row in ACCESS: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def request_as(client, app, world, endpoint: str, method: str, role: str):
    rule = endpoint_rules(app)[(endpoint, method)]
    if role != "anonymous":
        client.login(world.user(role))
    url = fill_url(rule, world) + QUERY.get(endpoint, "")
    if endpoint == "quizzes.save":
        answer = {"question_id": world.ids["question_id"], "value": 0}
        return client.open(url, method=method, json=answer)
    return client.open(url, method=method, data={})


def outcome(response):
    response.close()  # file responses (PDFs, course files) hold an open file
    if response.status_code == 302 and "/sign-in" in response.headers.get("Location", ""):
        return S
    return response.status_code


GETS = sorted(key for key in ACCESS if key[1] == "GET")
POSTS = sorted(key for key in ACCESS if key[1] != "GET")


@pytest.mark.parametrize(("endpoint", "method"), GETS)
def test_access_get(app, client, world, endpoint, method):
    # Pages only read: every role against the same world in one test.
    seen = []
    for role in ROLES:
        client.logout()
        seen.append(outcome(request_as(client, app, world, endpoint, method, role)))
    assert tuple(seen) == ACCESS[(endpoint, method)], f"GET {endpoint}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "method"), POSTS)
def test_access_post(app, client, world, endpoint, method, role):
    # Actions may change the world (sign out, delete): a fresh world for every role.
    expected = ACCESS[(endpoint, method)][ROLES.index(role)]
    response = request_as(client, app, world, endpoint, method, role)
    assert outcome(response) == expected, f"{role} {method} {endpoint}"
