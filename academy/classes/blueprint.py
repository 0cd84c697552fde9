"""The classes feature's blueprint and what its pages share: the class of an id (404), a
service's refusal shown next to its field."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
)

from academy.classes.models import Class
from academy.core.access import authorize
from academy.core.errors import ServiceError
from academy.extensions import db

bp = Blueprint("classes", __name__, template_folder="templates")


def class_or_404(class_id: int) -> Class:
    klass = db.session.get(Class, class_id)
    if klass is None:
        abort(404)
    authorize("class.teach", klass, hide=True)
    return klass


def form_error(form, exc: ServiceError, default: str) -> None:
    target = getattr(form, exc.field or default, None) or getattr(form, default)
    target.errors = [*target.errors, exc.message]


def form_status(form) -> int:
    return 400 if form.errors else 200
