"""Thai and English: the catalogue is complete, the choice is remembered, dates show the BE."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from academy.core.catalogues import missing_translations
from academy.core.i18n import format_date


def test_every_string_has_a_thai_translation():
    missing = missing_translations()
    assert missing == {}, "run `make translations` and translate: " + repr(missing)


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (date(2026, 11, 22), "th", "22 พฤศจิกายน 2569"),
        (date(2026, 11, 22), "en", "22 November 2026"),
        # 20:00 UTC is already the next day in Bangkok.
        (datetime(2026, 12, 31, 20, 0, tzinfo=UTC), "th", "1 มกราคม 2570"),
    ],
)
def test_dates_in_buddhist_era(app, value, language, expected):
    assert format_date(value, language) == expected


def test_language_choice_is_remembered_by_the_browser(client):
    response = client.post("/language", data={"language": "en", "next": "/sign-in"})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page


def test_language_choice_is_remembered_for_the_user(app, client, learner, db):
    client.login(learner)
    client.post("/language", data={"language": "en"})
    db.session.refresh(learner)
    assert learner.locale == "en"
    other_browser = app.test_client().login(learner)
    assert '<html lang="en">' in other_browser.get("/account/password").get_data(as_text=True)


@pytest.mark.parametrize("bad", ["fr", "", "../../etc"])
def test_unknown_language_is_refused(client, bad):
    assert client.post("/language", data={"language": bad}).status_code == 400


def test_language_switch_never_redirects_off_site(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_template_strings_are_translated_escaped_and_follow_force_locale(app):
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    page = '{{ _("Marked as done.") }}|{{ _("Go to: %(title)s", title=t) }}|{{ _("100%%") }}'
    with app.test_request_context():
        thai = render_template_string(page, t="<b>")
        assert (
            thai
            == f"{gettext('Marked as done.')}|{gettext('Go to: %(title)s', title='&lt;b&gt;')}|100%"
        )
        assert thai.split("|")[0] != "Marked as done."
        with force_locale("en"):
            assert render_template_string(page, t="x") == "Marked as done.|Go to: x|100%"
