"""What the studio remembers of a course folder it loaded: each file as its author wrote it."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.extensions import db


class CourseSource(db.Model):
    """One file of the loaded folder (course.yml, a module.yml, a lesson, quiz or assignment):
    its path and bytes, and the digest of what the export would write for that object right
    after loading. While the export would still write exactly that, nothing changed, and the
    author's own file (their name, their GIFT layout, their YAML style) is given back, so a
    folder in git survives a round trip unchanged (studio/export.py)."""

    __tablename__ = "course_sources"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # course, module, lesson...
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" for course.yml
    path: Mapped[str] = mapped_column(String(300))  # in the folder: 01-setup/01-account.md
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    written_sha256: Mapped[str] = mapped_column(String(64))
