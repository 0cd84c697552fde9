"""A fixed, small number of SQL queries per page, whatever the number of rows."""

from __future__ import annotations

import pytest

from academy.core import audit


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/sign-in", 0), ("/register", 1), ("/", 0)],  # /register reads the self-registration setting
)
def test_anonymous_pages(client, count_queries, path, expected):
    client.get(path)  # a first request may load settings caches; count a warm one
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert len(queries) == expected, str(queries)


def test_signed_in_pages_load_the_user_once(client, learner, count_queries):
    client.login(learner)
    with count_queries() as queries:
        assert client.get("/account/password").status_code == 200
    assert len(queries) == 1, str(queries)


def test_sign_in_post(client, learner, count_queries):
    data = {"username": learner.username, "password": "wrong"}
    with count_queries() as queries:
        response = client.post("/sign-in", data=data)
    assert response.status_code == 400
    # Every throttle count (account and address, account, address) in one query, the user,
    # one insert of the failure rows.
    assert len(queries) == 3, str(queries)


@pytest.mark.parametrize("extra", [2, 30])
def test_people_page_does_not_grow_with_rows(client, admin, make_user, count_queries, extra):
    for _ in range(extra):
        make_user()
    client.login(admin)
    with count_queries() as queries:
        assert client.get("/people").status_code == 200
    # The user, the count, the page, and whether the admin also learns (the menu).
    assert len(queries) == 4, str(queries)


@pytest.mark.parametrize("extra", [2, 30])
def test_audit_page_does_not_grow_with_rows(client, db, admin, make_user, count_queries, extra):
    for _ in range(extra):
        audit.record(audit.PASSWORD_RESET, make_user(), actor=admin)
    db.session.commit()
    client.login(admin)
    with count_queries() as queries:
        assert client.get("/admin/audit").status_code == 200
    # The user, the count, the page, the action list, whether the admin learns (the menu).
    assert len(queries) == 5, str(queries)
