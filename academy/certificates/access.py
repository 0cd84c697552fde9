"""Who may see a certificate and who may design a course's certificates, said once."""

from __future__ import annotations

from typing import Any

from academy.certificates.models import Certificate
from academy.classes.access import teaches_learner
from academy.core.access import is_admin, rule
from academy.courses.access import may_edit_course
from academy.courses.models import Course


@rule("certificate.view")
def may_view(user: Any, certificate: Certificate) -> bool:
    """The owner, admins, and instructors of a class the learner belongs to."""
    if is_admin(user) or certificate.user_id == user.id:
        return True
    return teaches_learner(user, certificate.user_id)


def may_download(user: Any, certificate: Certificate) -> bool:
    """A revoked certificate's PDF stays with the admins (its page says it was revoked)."""
    return certificate.is_valid or is_admin(user)


@rule("certificate.design")
def may_design(user: Any, course: Course) -> bool:
    return may_edit_course(user, course.id)
