"""The period's pages: the teacher's console, the projector board, attendance, the summary,
and the learners' poll. Views parse and render; the rules are in services."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from academy.auth.forms import ConfirmForm
from academy.classes.cards import join_link
from academy.classes.models import Class
from academy.core import audit
from academy.core.access import authorize
from academy.core.clock import local_month_key, to_local, utcnow
from academy.core.csv import csv_response
from academy.core.errors import ServiceError
from academy.core.i18n import locale_for, translated
from academy.core.qr import qr_svg
from academy.extensions import db
from academy.periods import attendance as roll
from academy.periods import gate, services
from academy.periods.banner import item_url, poll_etag
from academy.periods.models import ATTENDANCE_STATUSES, Period
from academy.quizzes import taking

# Audited actions (academy/core/audit.py): what a teacher did to learners' records and sessions.
PERIOD_ATTENDANCE = "period.attendance"
PERIOD_SIGN_OUT_ROOM = "period.sign_out_room"
PERIOD_QUIZ_CLOSE = "period.quiz_close"  # the class's open attempts were submitted

bp = Blueprint("periods", __name__, template_folder="templates")


def _class_or_404(class_id: int) -> Class:
    klass = db.session.get(Class, class_id)
    if klass is None:
        abort(404)
    authorize("period.steer", klass, hide=True)
    return klass


def _period_or_404(klass: Class, period_id: int) -> Period:
    period = db.session.get(Period, period_id)
    if period is None or period.class_id != klass.id:
        abort(404)
    return period


def _console(klass: Class):
    return redirect(url_for("periods.console", class_id=klass.id))


def _conditional(etag: str, build) -> Response:
    """304 when the browser already has this state; else the JSON `build()` makes."""
    # etag is quoted, as the header carries it; werkzeug's parsed list holds the bare values.
    if request.if_none_match.contains(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(json.dumps(build(), ensure_ascii=False), mimetype="application/json")
    response.headers["ETag"] = etag
    return response


# --- the learners' poll -----------------------------------------------------------------------


@bp.route("/period/now")
def poll():
    """What the learner's banner shows. Polled every few seconds by every PC in the room, so the
    unchanged answer (304) reads the session cookie and runs one indexed query: no user object
    (services.poller checks the session's version itself, as the user loader would)."""
    ident, _sep, version = str(session.get("_user_id") or "").partition(":")
    token = session.get("sid")
    if not (ident.isdigit() and version.isdigit() and isinstance(token, str) and token):
        abort(401)
    found = services.poller(int(ident), int(version), token[:100], utcnow())
    if found is None:
        abort(401)  # signed out (this room's computers were signed out), or deactivated
    state = found.state
    etag = poll_etag(state, locale_for(found.locale))

    def build() -> dict[str, Any]:
        if state is None:
            return {"running": False}
        item = services.current_item(db.session.get(Period, state.period_id))
        return {
            "running": item is not None,
            "follow_me": state.follow_me,
            "title": _item_title(item),
            "url": item_url(item) if item else None,
        }

    response = _conditional(etag, build)
    response.cache_control.no_store = True  # private, and said here: no user lookup after
    return response


def _item_title(item: services.ItemView | None) -> str | None:
    return translated(item.obj, "title") if item else None


# --- the teacher's console --------------------------------------------------------------------


def _render_console(klass: Class, *, errors=None, chosen=(), status: int = 200):
    period = services.running_period(klass, utcnow())
    return render_template(
        "periods/console.html",
        klass=klass,
        period=period,
        items=services.items_of(period) if period else [],
        choices=[] if period else services.choices_for(klass),
        last=services.last_period(klass),
        default_minutes=services.DEFAULT_MINUTES,
        errors=errors or {},
        chosen=set(chosen),
    ), status


@bp.route("/classes/<int:class_id>/period")
@login_required
def console(class_id: int):
    return _render_console(_class_or_404(class_id))


@bp.route("/classes/<int:class_id>/period/start", methods=["POST"])
@login_required
def start(class_id: int):
    klass = _class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    minutes = request.form.get("minutes", "").strip()
    try:
        if minutes and not minutes.isdigit():
            raise ServiceError(_("The length is a number of minutes."), "minutes")
        services.start(
            klass,
            current_user,
            request.form.getlist("item"),
            follow_me=request.form.get("follow_me") == "yes",
            minutes=int(minutes) if minutes else None,
            now=utcnow(),
        )
    except ServiceError as exc:
        errors = {exc.field or "form": exc.message}
        return _render_console(
            klass, errors=errors, chosen=request.form.getlist("item"), status=400
        )
    flash(_("The period has started."), "success")
    return _console(klass)


def _steer(class_id: int, action):
    klass = _class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    period = services.open_period(klass)
    try:
        if period is None:
            raise ServiceError(_("This class has no period running."))
        action(period, utcnow())
    except ServiceError as exc:
        # 409: the period is not in a state that allows this (ended, or none).
        return _render_console(klass, errors={"form": exc.message}, status=409)
    return _console(klass)


@bp.route("/classes/<int:class_id>/period/next", methods=["POST"])
@login_required
def next_item(class_id: int):
    return _steer(class_id, lambda p, now: services.step(p, 1, now=now))


@bp.route("/classes/<int:class_id>/period/previous", methods=["POST"])
@login_required
def previous_item(class_id: int):
    return _steer(class_id, lambda p, now: services.step(p, -1, now=now))


@bp.route("/classes/<int:class_id>/period/go", methods=["POST"])
@login_required
def go_to(class_id: int):
    position = request.form.get("position", "")
    if not position.isdigit():
        _class_or_404(class_id)
        abort(400, description=_("Choose an item of today's list."))
    return _steer(class_id, lambda p, now: services.go_to(p, int(position), now=now))


def _position() -> int:
    position = request.form.get("position", "")
    if not position.isdigit():
        abort(400, description=_("Choose an item of today's list."))
    return int(position)


@bp.route("/classes/<int:class_id>/period/quiz/open", methods=["POST"])
@login_required
def open_quiz(class_id: int):
    _class_or_404(class_id)
    position, with_code = _position(), request.form.get("code") == "yes"
    return _steer(
        class_id, lambda p, now: gate.open_quiz(p, position, with_code=with_code, now=now)
    )


@bp.route("/classes/<int:class_id>/period/quiz/close", methods=["POST"])
@login_required
def close_quiz(class_id: int):
    klass = _class_or_404(class_id)
    position = _position()

    def close(period: Period, now) -> None:
        count = gate.close_quiz(period, klass, position, now=now)
        audit.record(PERIOD_QUIZ_CLOSE, klass, period_id=period.id, position=position,
                     submitted=count)  # fmt: skip
        flash(
            _("The quiz is closed; %(count)d open attempts were submitted.", count=count), "success"
        )

    return _steer(class_id, close)


@bp.route("/classes/<int:class_id>/period/end", methods=["POST"])
@login_required
def end(class_id: int):
    klass = _class_or_404(class_id)
    period = services.open_period(klass)
    response = _steer(class_id, lambda p, now: gate.end(p, klass, now=now))
    if period is not None and isinstance(response, Response):
        return redirect(url_for("periods.summary", class_id=klass.id, period_id=period.id))
    return response


# --- the projector board ----------------------------------------------------------------------


def _board_data(klass: Class, period: Period, hide_names: bool) -> dict[str, Any]:
    board = services.board(period, klass, utcnow())
    return {
        "running": True,
        "learners": board.learners,
        "current": period.current_position,
        "items": [
            {
                "position": row.item.position,
                "title": _item_title(row.item),
                "kind": row.item.kind,
                "on_it": len(row.on_it),
                "names": [] if hide_names else row.on_it,
                "done": row.done,
                "answered": row.answered,
                "average": None if row.average is None else round(row.average),
                "gated": row.item.gated,
                "open": row.item.is_open,
                "code": row.item.row.start_code if row.item.is_open else None,
            }
            for row in board.items
        ],
        "not_started": len(board.not_started),
        "not_started_names": [] if hide_names else board.not_started,
    }


def _board_etag(data: dict[str, Any]) -> str:
    digest = hashlib.sha1(json.dumps(data, sort_keys=True).encode(), usedforsecurity=False)
    return f'"b{digest.hexdigest()[:16]}"'


@bp.route("/classes/<int:class_id>/period/board")
@login_required
def board(class_id: int):
    klass = _class_or_404(class_id)
    period = services.running_period(klass, utcnow())
    hide = request.args.get("names") == "hide"
    join_url = join_link(klass)
    data = _board_data(klass, period, hide) if period else None
    return render_template(
        "periods/board.html",
        klass=klass,
        period=period,
        data=data,
        etag=_board_etag(data) if data else "",
        hide=hide,
        join_url=join_url,
        qr=qr_svg(join_url) if join_url else None,
    )


@bp.route("/classes/<int:class_id>/period/board.json")
@login_required
def board_json(class_id: int):
    klass = _class_or_404(class_id)
    period = services.running_period(klass, utcnow())
    if period is None:
        return _conditional('"ended"', lambda: {"running": False})
    data = _board_data(klass, period, request.args.get("names") == "hide")
    return _conditional(_board_etag(data), lambda: data)


# --- after the period: summary, sign-out, attendance ------------------------------------------


@bp.route("/classes/<int:class_id>/periods/<int:period_id>")
@login_required
def summary(class_id: int, period_id: int):
    klass = _class_or_404(class_id)
    period = _period_or_404(klass, period_id)
    now = utcnow()
    # Attempts the period's end cut short are closed before they are counted.
    taking.close_expired_attempts(now, user_ids=gate.members(klass))
    return render_template(
        "periods/summary.html",
        klass=klass,
        period=period,
        board=services.board(period, klass, now),
        attendance=roll.attendance(period, klass, now),
        finished_at=period.finished_at(now),
        form=ConfirmForm(),
    )


@bp.route("/classes/<int:class_id>/periods/<int:period_id>/sign-out", methods=["POST"])
@login_required
def sign_out_room(class_id: int, period_id: int):
    klass = _class_or_404(class_id)
    period = _period_or_404(klass, period_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = roll.sign_out_room(period, klass, utcnow())
    audit.record(PERIOD_SIGN_OUT_ROOM, klass, period_id=period.id, sessions=count)
    flash(_("Signed out %(count)d computers of this room.", count=count), "success")
    return redirect(url_for("periods.summary", class_id=klass.id, period_id=period.id))


@bp.route("/classes/<int:class_id>/periods/<int:period_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(class_id: int, period_id: int):
    klass = _class_or_404(class_id)
    period = _period_or_404(klass, period_id)
    now = utcnow()
    error = None
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400)
        entries = {}
        for key, status in request.form.items():
            if key.startswith("status-") and key[7:].isdigit():
                user_id = int(key[7:])
                entries[user_id] = (status, request.form.get(f"note-{user_id}", ""))
        try:
            changed = roll.correct_attendance(period, klass, current_user, entries, now)
        except ServiceError as exc:
            error = exc.message
        else:
            if changed:
                audit.record(PERIOD_ATTENDANCE, klass, period_id=period.id, changed=changed)
            flash(_("Attendance saved (%(count)d changed).", count=changed), "success")
            return redirect(url_for("periods.attendance", class_id=klass.id, period_id=period.id))
    return render_template(
        "periods/attendance.html",
        klass=klass,
        period=period,
        rows=roll.attendance(period, klass, now),
        statuses=ATTENDANCE_STATUSES,
        form=ConfirmForm(),
        error=error,
    ), (400 if error else 200)


def _month_of(klass: Class):
    """The local month the address asks for (this month without one), or a 400 that says
    what is wrong with a hand-made link."""
    now = utcnow()
    month = request.args.get("month") or local_month_key(now)
    try:
        return month, roll.class_month(klass, month, now)
    except ServiceError as exc:
        abort(Response(exc.message, status=400, mimetype="text/plain"))


def _status_labels() -> dict[str, str]:
    return {
        "present": _("present"),
        "late": _("late"),
        "absent": _("absent"),
        "excused": _("excused"),
    }


@bp.route("/classes/<int:class_id>/attendance")
@login_required
def attendance_month(class_id: int):
    """A class's attendance by month: learners down, periods across, totals per learner."""
    klass = _class_or_404(class_id)
    month, grid = _month_of(klass)
    first = datetime.strptime(month, "%Y-%m")
    before = (first.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    after = (first.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")
    return render_template(
        "periods/attendance_month.html",
        klass=klass,
        month=month,
        grid=grid,
        labels=_status_labels(),
        before=before,
        after=after,
    )


@bp.route("/classes/<int:class_id>/attendance.csv")
@login_required
def attendance_csv(class_id: int):
    """A class's attendance for one local month, one line per period and learner, for Excel
    (the one CSV writer: byte-order mark for Thai, no formula cells)."""
    klass = _class_or_404(class_id)
    month, grid = _month_of(klass)
    labels = _status_labels()
    header = [_("Date"), _("Started"), _("Name"), _("Username"), _("Status"), _("Note")]
    rows = []  # read now, inside the request's transaction, not while the file streams
    for period in grid.periods:
        local = to_local(period.started_at)
        for learner in grid.learners:
            mark = grid.mark(period, learner)
            rows.append(
                [local.date().isoformat(), local.strftime("%H:%M"), learner.full_name,
                 learner.username, labels[mark.status], mark.note]
            )  # fmt: skip
    return csv_response(f"attendance-{klass.id}-{month}.csv", header, rows)
