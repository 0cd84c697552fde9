from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from academy.certificates import access, images, issuing, rendering, verification
from academy.certificates import design as designs
from academy.certificates.forms import BadgeRecipientForm
from academy.certificates.models import Certificate
from academy.classes.models import Class
from academy.core import audit
from academy.core.access import ADMIN, authorize, role_required
from academy.core.errors import ServiceError
from academy.core.web import SVG_CSP
from academy.courses.models import Course
from academy.extensions import db

bp = Blueprint("certificates", __name__, template_folder="templates")


def _address() -> str:
    return request.remote_addr or "unknown"


def _too_many(wait: int):
    message = _(
        "Too many unknown codes from this network. Please wait %(n)d minutes and try again.",
        n=max(1, (wait + 59) // 60),
    )
    return render_template("certificates/verify.html", error=message, code=""), 429


def _lookup(code: str) -> Certificate:
    """The certificate for a public lookup: throttled, and 404 for unknown codes."""
    wait = verification.verify_blocked(_address())
    if wait:
        body, status = _too_many(wait)
        abort(make_response(body, status))
    certificate = verification.lookup_for_verification(code, _address())
    if certificate is None:
        abort(404)
    return certificate


@bp.route("/verify", methods=["GET", "POST"])
def verify_form():
    code = (request.values.get("code") or "").strip()
    if not code:
        return render_template("certificates/verify.html", error=None, code="")
    wait = verification.verify_blocked(_address())
    if wait:
        return _too_many(wait)
    certificate = verification.lookup_for_verification(code, _address())
    if certificate is None:
        message = _("No certificate has the code %(code)s. Please check it and try again.",
                    code=code[:40])  # fmt: skip
        return render_template("certificates/verify.html", error=message, code=code[:40]), 404
    return redirect(url_for("certificates.verify", code=certificate.display_code))


@bp.route("/verify/<code>")
def verify(code: str):
    if code.endswith(".json"):
        return verify_json(code[:-5])
    certificate = _lookup(code)
    return render_template(
        "certificates/verify_result.html",
        certificate=certificate,
        share=images.share_links(certificate),
    )


@bp.route("/verify/<code>/image.png")
def image(code: str):
    certificate = _lookup(code)
    if certificate.name_hidden:  # the picture shows the name
        abort(404)
    # A newly rendered PDF's hash is saved by the request's commit.
    path = images.stored_preview(certificate)
    return send_file(
        io.BytesIO(path.read_bytes()),
        mimetype="image/png",
        download_name=f"{rendering.download_name(certificate).removesuffix('.pdf')}.png",
        as_attachment=request.args.get("download") == "1",
    )


@bp.route("/verify/<code>/badge.json")
def verify_json(code: str):
    certificate = _lookup(code)
    return jsonify(verification.assertion(certificate))


@bp.route("/courses/<slug>/badge.json")
def badge_class(slug: str):
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    return jsonify(verification.badge_class(course))


@bp.route("/courses/<slug>/badge.svg")
def badge_image(slug: str):
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    response = make_response(verification.badge_svg(course))
    response.mimetype = "image/svg+xml"
    response.headers["Content-Security-Policy"] = SVG_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/certificates/issuer.json")
def issuer():
    return jsonify(verification.issuer_profile())


@bp.route("/certificates")
@login_required
def mine():
    certificates = issuing.for_learner(current_user)
    return render_template("certificates/mine.html", certificates=certificates)


def _get(code: str) -> Certificate:
    certificate = issuing.find(code)
    if certificate is None:
        abort(404)
    authorize("certificate.view", certificate, hide=True)
    return certificate


@bp.route("/certificates/<code>/name", methods=["POST"])
@login_required
def name_visibility(code: str):
    certificate = issuing.find(code)
    if certificate is None or certificate.user_id != current_user.id:
        abort(404)
    hidden = request.form.get("hidden") == "1"
    issuing.set_name_hidden(certificate, hidden)
    if hidden:
        flash(_("The public page now confirms this certificate without your name."), "success")
    else:
        flash(_("The public page shows your name again."), "success")
    return redirect(url_for("certificates.mine"))


@bp.route("/certificates/<code>")
@login_required
def detail(code: str):
    certificate = _get(code)
    form = BadgeRecipientForm(recipient=certificate.badge_recipient or "")
    return _detail_page(certificate, form)


def _detail_page(certificate: Certificate, form: BadgeRecipientForm):
    return render_template(
        "certificates/detail.html",
        certificate=certificate,
        form=form,
        badge_url=verification.assertion_url(certificate.code),
    )


@bp.route("/certificates/<code>/badge-recipient", methods=["POST"])
@login_required
def badge_recipient(code: str):
    """The learner's own e-mail or web address for claiming the badge in a backpack."""
    certificate = _get(code)
    if certificate.user_id != current_user.id:
        abort(403)
    form = BadgeRecipientForm()
    if form.validate_on_submit():
        try:
            verification.set_badge_recipient(certificate, form.recipient.data or "")
        except ServiceError as exc:
            form.recipient.errors = [exc.message]
        else:
            flash(_("Saved. Add your badge to a backpack with the address below."), "success")
            return redirect(url_for("certificates.detail", code=certificate.code))
    return _detail_page(certificate, form), 400


@bp.route("/certificates/<code>.pdf")
@login_required
def pdf(code: str):
    certificate = _get(code)
    if not access.may_download(current_user, certificate):
        abort(404)
    # A newly rendered PDF's hash is saved by the request's commit.
    path = rendering.stored_pdf(certificate)
    # Read into memory (a certificate is ~100 kB): no file handle outlives the request.
    return send_file(
        io.BytesIO(path.read_bytes()),
        mimetype="application/pdf",
        download_name=rendering.download_name(certificate),
        as_attachment=request.args.get("download") == "1",
    )


@bp.route("/classes/<int:class_id>/certificates.zip")
@login_required
def class_zip(class_id: int):
    klass = db.session.get(Class, class_id)
    if klass is None:
        abort(404)
    authorize("class.teach", klass, hide=True)
    certificates = issuing.for_class(class_id)
    handle = rendering.build_zip(certificates)
    return send_file(
        handle,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"certificates-class-{class_id}.zip",
    )


@bp.route("/admin/certificates")
@role_required(ADMIN)
def admin_list():
    term = (request.args.get("q") or "").strip()
    page = db.paginate(issuing.search_query(term), per_page=50, error_out=False)
    return render_template("certificates/admin_list.html", page=page, term=term)


@bp.route("/admin/certificates/<code>/revoke", methods=["POST"])
@role_required(ADMIN)
def revoke(code: str):
    certificate = _get(code)
    try:
        issuing.revoke(certificate, request.form.get("reason", ""))
    except ServiceError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("certificates.detail", code=code))
    audit.record("certificate.revoke", certificate, reason=certificate.revoked_reason)
    flash(_("The certificate has been revoked."), "success")
    return redirect(url_for("certificates.detail", code=code))


@bp.route("/admin/certificates/<code>/reissue", methods=["POST"])
@role_required(ADMIN)
def reissue(code: str):
    certificate = _get(code)
    try:
        new = issuing.reissue(certificate)
    except ServiceError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("certificates.detail", code=code))
    audit.record("certificate.reissue", certificate, new_code=new.code)
    flash(_("A new certificate has been issued with the current name."), "success")
    return redirect(url_for("certificates.detail", code=new.code))


@bp.route("/courses/<slug>/certificate-preview.pdf")
@login_required
def preview(slug: str):
    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    authorize("certificate.design", course, hide=True)
    data = rendering.render(rendering.sample_certificate(course))
    return data, 200, {"Content-Type": "application/pdf"}


@bp.route("/courses/<slug>/certificate-design", methods=["GET", "POST"])
@login_required
def design(slug: str):
    from academy.certificates.forms import DesignForm
    from academy.certificates.models import CertificateDesign

    course = db.session.scalar(select(Course).where(Course.slug == slug))
    if course is None:
        abort(404)
    authorize("certificate.design", course, hide=True)
    current = db.session.get(CertificateDesign, course.id)
    form = DesignForm()
    if request.method == "GET":
        snapshot = designs.design_snapshot(course, current)
        form.title_th.data = snapshot["title_th"]
        form.title_en.data = snapshot["title_en"]
        form.accent_color.data = snapshot["accent_color"]
        form.issuers.data = designs.issuers_text(current)
        for i, s in enumerate(snapshot["signatories"][:2]):
            getattr(form, f"sig{i}_name").data = s.get("name")
            getattr(form, f"sig{i}_role").data = s.get("role")
    error = None
    if form.validate_on_submit():
        signatories = []
        for i in range(2):
            upload = getattr(form, f"sig{i}_image").data
            signatories.append(
                designs.SignatoryInput(
                    getattr(form, f"sig{i}_name").data or "",
                    getattr(form, f"sig{i}_role").data or "",
                    upload.read() if upload else None,
                    bool(getattr(form, f"sig{i}_remove").data),
                )
            )
        logos = [f.read() for f in form.logos.data or [] if f and f.filename]
        try:
            designs.save_design(
                course,
                title_th=form.title_th.data,
                title_en=form.title_en.data,
                accent_color=form.accent_color.data,
                issuers_text=form.issuers.data or "",
                signatories=signatories,
                new_logos=logos,
                remove_logos=list(current.logos or [])
                if current and form.remove_logos.data
                else [],
            )
        except ServiceError as exc:
            error = exc.message
        else:
            flash(_("Saved. New certificates of this course will use this design."), "success")
            return redirect(url_for("certificates.design", slug=slug))
    status = 400 if (error or form.errors) else 200
    return render_template(
        "certificates/design.html", form=form, course=course, error=error
    ), status
