from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from academy.core.db import UTCDateTime, utcnow
from academy.extensions import db

VALID = "valid"
REVOKED = "revoked"
REPLACED = "replaced"


class Certificate(db.Model):
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
    issuers: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL")
    )
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))


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
    issuers: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
