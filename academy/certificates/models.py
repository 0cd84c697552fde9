from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.db import GlobalId, Stamped, UTCDateTime, utcnow
from academy.extensions import db

if TYPE_CHECKING:
    from academy.auth.models import User
    from academy.courses.models import Course

BADGE_EMAIL = "email"
BADGE_URL = "url"

VALID = "valid"
REVOKED = "revoked"
REPLACED = "replaced"


def group_code(code: str) -> str:
    """K7M4P9X2QR -> K7M4-P9X2-QR: easier to read aloud and to type from paper."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


class Certificate(GlobalId, Stamped, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        # One valid certificate per learner and course, however many requests complete it at
        # once: the second insert fails and the issuer returns the first.
        Index(
            "ux_certificates_one_valid",
            "user_id",
            "course_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    # As they were when issued: a later rename does not silently change a printed certificate.
    learner_name: Mapped[str] = mapped_column(String(300))
    course_title_th: Mapped[str] = mapped_column(String(300))
    course_title_en: Mapped[str | None] = mapped_column(String(300))
    # [{"th": ..., "en": ...}], from the course's design or CERTIFICATE_ISSUERS.
    issuers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL")
    )
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set when the PDF is first rendered and stored as DATA_DIR/certificates/<code>.pdf.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # The identity the learner claims the Open Badge with, which a backpack can match:
    # BADGE_EMAIL or BADGE_URL and the address (an e-mail in lower case). None: not claimed.
    badge_recipient_type: Mapped[str | None] = mapped_column(String(8))
    badge_recipient: Mapped[str | None] = mapped_column(String(320))
    # The address printed in the stored PDF (its link and QR code); None: stored before this
    # was recorded. services.needs_new_link decides when the PDF is rendered again.
    pdf_link_base: Mapped[str | None] = mapped_column(String(300))
    # The learner's choice: the public /verify page then confirms the code without the name.
    name_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    course: Mapped[Course] = relationship(foreign_keys=[course_id])
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def display_code(self) -> str:
        return group_code(self.code)

    @property
    def is_valid(self) -> bool:
        return self.status == VALID


class CertificateDesign(db.Model):
    """A course's certificate look; applies to certificates issued after it is saved."""

    __tablename__ = "certificate_designs"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    title_th: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    accent_color: Mapped[str] = mapped_column(String(7), default="#0b5c4b")
    # [{"name": ..., "role": ..., "signature": "<stored file name>"}]
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    logos: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"th": ..., "en": ...}]; empty: the site's CERTIFICATE_ISSUERS.
    issuers: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
