"""Admin > School servers on both sides, and the city's API the school servers call
(/sync/api/...: JSON, a bearer secret instead of a session, so no CSRF token)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from academy.core.access import ADMIN, role_required
from academy.core.errors import ServiceError
from academy.extensions import csrf, db
from academy.sync import files, pull, relay, services
from academy.sync.models import SyncPeer
from academy.sync.problems import N_, Problem, SyncProblem
from academy.sync.push import Behind
from academy.sync.rows import Refused

bp = Blueprint("sync", __name__, url_prefix="/sync", template_folder="templates")


@bp.route("/")
@role_required(ADMIN)
def index():
    if services.role() == services.SCHOOL:
        joined = services.link()
        waiting = services.waiting(joined.school_id, joined.city_mark) if joined else 0
        every = services.round_minutes()
        return render_template("sync/school.html", link=joined, waiting=waiting,
                               every=f"{every:g}" if every else None)  # fmt: skip
    return render_template("sync/city.html", peers=services.peers(), token=None,
                           requests=relay.recent())  # fmt: skip


@bp.route("/register", methods=["POST"])
@role_required(ADMIN)
def register():
    try:
        peer, token = services.register(request.form.get("school", ""))
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sync.index"))
    return render_template("sync/city.html", peers=services.peers(), token=token, new=peer,
                           requests=relay.recent())  # fmt: skip


@bp.route("/<peer_uuid>/revoke", methods=["POST"])
@role_required(ADMIN)
def revoke(peer_uuid: str):
    peer = services.peer_by_uuid(peer_uuid) or abort(404)
    services.revoke(peer)
    flash(_("The school server was revoked: its next request is refused."), "success")
    return redirect(url_for("sync.index"))


# --- the city's API ------------------------------------------------------------------------------


def _refusal(problem: Problem, status: int, peer_uuid: str | None = None):
    """The city's refusal: in English for a person reading the wire, and as its message id and
    values, which the school server keeps to show in its reader's language."""
    db.session.rollback()
    services.note_refusal(peer_uuid, problem)
    return jsonify(error=problem.english(), problem=problem.as_json()), status


def _from_school(view: Callable[..., Any]) -> Callable[..., Any]:
    """An API route a school server calls, given its authenticated peer; 401 with the reason
    otherwise (404 on a school server: only the city answers)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if services.role() != services.CITY:
            abort(404)
        try:
            peer = services.authenticate(request.headers.get("Authorization"))
        except Refused as exc:
            return _refusal(exc.problem, 401)
        return view(peer, *args, **kwargs)

    return wrapped


@bp.route("/api/join", methods=["POST"])
@csrf.exempt
def api_join():
    if services.role() != services.CITY:
        abort(404)
    payload = request.get_json(silent=True) or {}
    try:
        peer, secret = services.redeem(str(payload.get("token", "")))
    except Refused as exc:
        return _refusal(exc.problem, 400)
    return jsonify(services.join_answer(peer, secret))


@bp.route("/api/mark")
@csrf.exempt
@_from_school
def api_mark(peer: SyncPeer):
    return jsonify(mark=peer.pushed_seq)


@bp.route("/api/push", methods=["POST"])
@csrf.exempt
@_from_school
def api_push(peer: SyncPeer):
    peer_uuid = peer.uuid
    try:
        answer = services.receive(peer, request.get_data(), request.headers.get("X-Sync-SHA256"))
    except Behind as exc:
        return _refusal(exc.problem, 409, peer_uuid)
    except Refused as exc:
        return _refusal(exc.problem, 400, peer_uuid)
    except IntegrityError as exc:  # a rule of the city's database the checks did not foresee
        problem = Problem(N_("the batch conflicts with the city's rows: %(detail)s"),
                          {"detail": str(exc.orig).splitlines()[0]})  # fmt: skip
        return _refusal(problem, 409, peer_uuid)
    return jsonify(answer)


@bp.route("/api/round", methods=["POST"])
@csrf.exempt
@_from_school
def api_round(peer: SyncPeer):
    """The school server's last call in a round that went well: the admin page's "last
    successful round", also when it had nothing to send."""
    services.round_finished(peer)
    return jsonify(mark=peer.pushed_seq)


@bp.route("/api/courses")
@csrf.exempt
@_from_school
def api_courses(_peer: SyncPeer):
    return jsonify(courses=pull.offered())


@bp.route("/api/course-files", methods=["POST"])
@csrf.exempt
@_from_school
def api_course_files(_peer: SyncPeer):
    payload = request.get_json(silent=True) or {}
    paths = payload.get("paths")
    if not isinstance(paths, list):
        return _refusal(Problem(N_("name the files as a list of paths")), 400)
    slug = str(payload.get("slug", ""))
    contents = pull.file_contents(slug, [str(p) for p in paths])
    if contents is None:
        return _refusal(Problem(N_("the city offers no course '%(slug)s'"), {"slug": slug}), 404)
    return jsonify(files={p: base64.b64encode(b).decode() for p, b in contents.items()})


@bp.route("/api/files/missing", methods=["POST"])
@csrf.exempt
@_from_school
def api_files_missing(peer: SyncPeer):
    """Which of the files a batch names (hand-in photos, by SHA-256) the city lacks."""
    try:
        payload = request.get_json(silent=True) or {}
        return jsonify(missing=files.missing(payload.get("files")))
    except Refused as exc:
        return _refusal(exc.problem, 400, peer.uuid)


@bp.route("/api/files", methods=["POST"])
@csrf.exempt
@_from_school
def api_files(peer: SyncPeer):
    """Files sent before the batch that names them, each checked against its hash."""
    peer_uuid = peer.uuid
    try:
        payload = request.get_json(silent=True) or {}
        return jsonify(stored=files.receive(payload.get("files")))
    except Refused as exc:
        return _refusal(exc.problem, 400, peer_uuid)


@bp.route("/api/requests")
@csrf.exempt
@_from_school
def api_requests(peer: SyncPeer):
    """The changes asked at the city of this school's accounts, not yet answered."""
    return jsonify(requests=relay.waiting_for(peer))


@bp.route("/api/answers", methods=["POST"])
@csrf.exempt
@_from_school
def api_answers(peer: SyncPeer):
    """The school server's answers: each request made (its push brings the new state) or
    refused with its reason."""
    payload = request.get_json(silent=True) or {}
    try:
        noted = relay.record_answers(peer, payload.get("answers"))
    except SyncProblem as exc:
        return _refusal(exc.problem, 400, peer.uuid)
    return jsonify(noted=noted)
