"""Language choice and dates. Thai is the default; the Buddhist Era is shown in Thai dates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale
from babel.dates import get_month_names
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from academy.core.clock import local_date, to_local

LANG_COOKIE = "lang"
# The signed-in person's language, kept in the session cookie as well as on their account, so
# an error page can speak it without loading the account from a database that may be down.
SESSION_LANG = "lang"


# One babel Locale per language for the whole process: Flask-Babel would parse the name again
# on every request, and naming it (str) walks its parts each time (issue 15).
_LOCALES: dict[str, Locale] = {}


def _locale(name: str) -> Locale:
    locale = _LOCALES.get(name)
    if locale is None:
        locale = _LOCALES[name] = Locale.parse(name)
    return locale


def select_locale() -> Locale:
    """The person's saved choice, then this browser's choice, then Thai."""
    if not has_request_context():
        return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    return _locale(
        locale_for(getattr(current_user, "locale", None) if current_user.is_authenticated else None)
    )


def locale_for(saved: str | None, cookie: str | None = None) -> str:
    """select_locale for a person whose saved choice is `saved` (a request that read the
    person's row itself, like the period poll, asks this without loading the user); `cookie`
    is this browser's choice when the caller read the cookies itself (outside Flask's request)."""
    chosen = cookie if cookie is not None else request.cookies.get(LANG_COOKIE)
    return pick_locale(current_app.config, saved, chosen)


def pick_locale(config: Any, saved: str | None, cookie: str | None) -> str:
    """The person's saved choice, then this browser's, then the default: the rule itself."""
    languages = config["LANGUAGES"]
    if saved in languages:
        return saved
    if cookie in languages:
        return cookie
    return config["BABEL_DEFAULT_LOCALE"]


def request_locale() -> str:
    """The language of this request from the session and the cookie alone: no database, no
    account load, nothing that can fail while the database is down (error pages use it)."""
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        for chosen in (session.get(SESSION_LANG), request.cookies.get(LANG_COOKIE)):
            if chosen in languages:
                return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_locale(_app: object, user: object, **_: object) -> None:
    """On sign-in (flask-login's user_logged_in signal): the account's language into the
    session, for request_locale."""
    locale = getattr(user, "locale", None)
    if locale in current_app.config["LANGUAGES"]:
        session[SESSION_LANG] = locale


def current_language() -> str:
    locale = get_locale()
    if locale is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    for name, known in _LOCALES.items():
        if known is locale:
            return name
    return str(locale)  # one force_locale made


def format_date(value: date | datetime | None, language: str | None = None) -> str:
    """'22 พฤศจิกายน 2569' in Thai (Buddhist Era), '22 November 2026' in English."""
    if value is None:
        return ""
    language = language or current_language()
    day = local_date(value)
    month = get_month_names("wide", locale=language)[day.month]
    year = day.year
    if language == "th" and current_app.config.get("BUDDHIST_ERA", True):
        year += 543
    return f"{day.day} {month} {year}"


def format_datetime(value: datetime | None, language: str | None = None) -> str:
    if value is None:
        return ""
    local = to_local(value)
    return f"{format_date(local, language)} {local:%H:%M}"


def localized(value: dict | None, language: str | None = None) -> str:
    """Pick the text for the current language from a {"th": ..., "en": ...} pair, falling back
    to Thai, because Thai is the one language every course must have."""
    if not value:
        return ""
    language = language or current_language()
    return value.get(language) or value.get("th") or next(iter(value.values()), "")


def translated(obj: object, field: str, language: str | None = None) -> str:
    """`obj.<field>_en` in English when it is filled in, otherwise `obj.<field>_th`: every
    course is written in Thai first, English is optional."""
    language = language or current_language()
    if language != "th":
        value = getattr(obj, f"{field}_{language}", None)
        if value:
            return value
    return getattr(obj, f"{field}_th", None) or ""


def catalogue() -> NullTranslations:
    """This request's translations, looked up once per request and language. Flask-Babel finds
    them anew for every string (three lookups of its request state and the locale's name, ~10
    microseconds, 25-50 times per page); a page's templates call this instead. The entry is
    checked against Flask-Babel's current locale object, so force_locale still switches."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    cached = g.get("_academy_catalogue")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._academy_catalogue = (get_locale(), translations)
    return translations


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """The templates' `_()`: what Jinja's new-style gettext does (escaped values, the string
    always %-formatted) without its two wrappers, which pass the template context and so copy
    the whole context for every string inside a loop or a block (issue 15: 53 strings, 29
    copies, ~18% of the course page)."""
    rv = catalogue().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our catalogue, as Jinja marks it; values are escaped
    return rv % variables


def init_app(app: Flask) -> None:
    """The templates' gettext through catalogue() (after Flask-Babel installed its own)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = template_gettext
