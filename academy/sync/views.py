"""Admin > School servers on both sides, and the city's API the school servers call
(/sync/api/...: JSON, a bearer secret instead of a session, so no CSRF token)."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from academy.core.access import ADMIN, role_required
from academy.core.errors import ServiceError
from academy.extensions import csrf, db
from academy.sync import files, pull, services
from academy.sync.push import Behind
from academy.sync.rows import Refused

bp = Blueprint("sync", __name__, url_prefix="/sync", template_folder="templates")


@bp.route("/")
@role_required(ADMIN)
def index():
    if services.role() == services.SCHOOL:
        joined = services.link()
        waiting = services.waiting(joined.school_id, joined.city_mark) if joined else 0
        return render_template("sync/school.html", link=joined, waiting=waiting)
    return render_template("sync/city.html", peers=services.peers(), token=None)


@bp.route("/register", methods=["POST"])
@role_required(ADMIN)
def register():
    try:
        peer, token = services.register(request.form.get("school", ""))
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sync.index"))
    return render_template("sync/city.html", peers=services.peers(), token=token, new=peer)


@bp.route("/<peer_uuid>/revoke", methods=["POST"])
@role_required(ADMIN)
def revoke(peer_uuid: str):
    peer = services.peer_by_uuid(peer_uuid) or abort(404)
    services.revoke(peer)
    flash(_("The school server was revoked: its next request is refused."), "success")
    return redirect(url_for("sync.index"))


# --- the city's API ------------------------------------------------------------------------------


def _refusal(message: str, status: int, peer_uuid: str | None = None):
    db.session.rollback()
    services.note_refusal(peer_uuid, message)
    return jsonify(error=message), status


def _peer():
    if services.role() != services.CITY:
        abort(404)
    return services.authenticate(request.headers.get("Authorization"))


@bp.route("/api/join", methods=["POST"])
@csrf.exempt
def api_join():
    if services.role() != services.CITY:
        abort(404)
    payload = request.get_json(silent=True) or {}
    try:
        peer, secret = services.redeem(str(payload.get("token", "")))
    except Refused as exc:
        return _refusal(str(exc), 400)
    return jsonify(services.join_answer(peer, secret))


@bp.route("/api/mark")
@csrf.exempt
def api_mark():
    try:
        peer = _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    return jsonify(mark=peer.pushed_seq)


@bp.route("/api/push", methods=["POST"])
@csrf.exempt
def api_push():
    try:
        peer = _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    peer_uuid = peer.uuid
    try:
        answer = services.receive(peer, request.get_data(), request.headers.get("X-Sync-SHA256"))
    except Behind as exc:
        return _refusal(str(exc), 409, peer_uuid)
    except Refused as exc:
        return _refusal(str(exc), 400, peer_uuid)
    except IntegrityError as exc:  # a rule of the city's database the checks did not foresee
        message = str(exc.orig).splitlines()[0]
        return _refusal(f"the batch conflicts with the city's rows: {message}", 409, peer_uuid)
    return jsonify(answer)


@bp.route("/api/round", methods=["POST"])
@csrf.exempt
def api_round():
    """The school server's last call in a round that went well: the admin page's "last
    successful round", also when it had nothing to send."""
    try:
        peer = _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    services.round_finished(peer)
    return jsonify(mark=peer.pushed_seq)


@bp.route("/api/courses")
@csrf.exempt
def api_courses():
    try:
        _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    return jsonify(courses=pull.offered())


@bp.route("/api/course-files", methods=["POST"])
@csrf.exempt
def api_course_files():
    try:
        _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    payload = request.get_json(silent=True) or {}
    paths = payload.get("paths")
    if not isinstance(paths, list):
        return _refusal("name the files as a list of paths", 400)
    contents = pull.file_contents(str(payload.get("slug", "")), [str(p) for p in paths])
    if contents is None:
        return _refusal(f"the city offers no course {payload.get('slug')!r}", 404)
    return jsonify(files={p: base64.b64encode(b).decode() for p, b in contents.items()})


@bp.route("/api/files/missing", methods=["POST"])
@csrf.exempt
def api_files_missing():
    """Which of the files a batch names (hand-in photos, by SHA-256) the city lacks."""
    try:
        _peer()
    except Refused as exc:
        return _refusal(str(exc), 401)
    try:
        payload = request.get_json(silent=True) or {}
        return jsonify(missing=files.missing(payload.get("files")))
    except Refused as exc:
        return _refusal(str(exc), 400)


@bp.route("/api/files", methods=["POST"])
@csrf.exempt
def api_files():
    """Files sent before the batch that names them, each checked against its hash."""
    try:
        peer_uuid = _peer().uuid
    except Refused as exc:
        return _refusal(str(exc), 401)
    try:
        payload = request.get_json(silent=True) or {}
        return jsonify(stored=files.receive(payload.get("files")))
    except Refused as exc:
        return _refusal(str(exc), 400, peer_uuid)
