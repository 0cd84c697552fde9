from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.core.db import GlobalId, Stamped, TimestampMixin, UTCDateTime, utcnow
from academy.extensions import db


class School(GlobalId, db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    district: Mapped[str | None] = mapped_column(String(100))

    rooms: Mapped[list[Room]] = relationship(back_populates="school", order_by="Room.name")


class Room(db.Model):
    """A computer room in a school."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    seats: Mapped[int] = mapped_column(Integer, default=40)

    school: Mapped[School] = relationship(back_populates="rooms")


class Programme(db.Model):
    """A non-school grouping: a market (Bobae-Mahanak), an OTOP province, ..."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="market")  # market | otop | other
    # The market's or province's name, as reports group by it ("Bobae", "Chiang Mai").
    place: Mapped[str | None] = mapped_column(String(100))


class Class(GlobalId, Stamped, TimestampMixin, db.Model):
    """A class (cohort): learners taught together, in a room or in a programme."""

    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("programmes.id", ondelete="SET NULL"), index=True
    )
    join_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    join_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    room: Mapped[Room | None] = relationship()
    programme: Mapped[Programme | None] = relationship()


class ClassInstructor(Stamped, db.Model):
    __tablename__ = "class_instructors"

    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ClassMember(Stamped, db.Model):
    __tablename__ = "class_members"
    # The primary key (class_id, user_id) serves "members of a class"; the index on user_id
    # serves "classes of a learner" and the room/programme reports (join from the learner).

    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ClassCourse(Stamped, db.Model):
    """A class enrolled in a course: its learners are enrolled with it."""

    __tablename__ = "class_courses"

    class_id: Mapped[int] = mapped_column(
        ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
