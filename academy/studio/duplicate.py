"""Duplicating a course: a draft copy with its modules, lessons, files, quizzes and questions,
the copier its one author."""

from __future__ import annotations

from sqlalchemy import select

from academy.auth.models import User
from academy.core import audit
from academy.courses import services
from academy.courses.models import (
    DRAFT,
    Course,
    CourseAsset,
    CourseInstructor,
    Lesson,
    Module,
)
from academy.extensions import db
from academy.quizzes.models import Question, Quiz
from academy.studio.services import asset_paths, list_assets


def duplicate_course(course: Course, user: User) -> Course:
    """A draft copy with a new address: modules, lessons, quizzes (with questions) and files."""
    base = f"{course.slug[:56]}-copy"
    taken = set(db.session.scalars(select(Course.slug).where(Course.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    copy = Course(
        slug=slug,
        title_th=f"{course.title_th} (สำเนา)"[:300],
        title_en=f"{course.title_en} (copy)"[:300] if course.title_en else None,
        summary_th=course.summary_th,
        summary_en=course.summary_en,
        track_id=course.track_id,
        cover_path=course.cover_path,
        duration_minutes=course.duration_minutes,
        status=DRAFT,
        sequential=course.sequential,
        language=course.language,
    )
    db.session.add(copy)
    db.session.flush()
    db.session.add(CourseInstructor(course_id=copy.id, user_id=user.id))
    for asset in list_assets(course):
        db.session.add(
            CourseAsset(
                course_id=copy.id,
                path=asset.path,
                content_type=asset.content_type,
                size=asset.size,
                sha256=asset.sha256,
            )
        )
    modules = list(db.session.scalars(select(Module).where(Module.course_id == course.id)))
    module_map: dict[int, int] = {}
    for module in modules:
        new = Module(
            course_id=copy.id,
            key=module.key,
            position=module.position,
            title_th=module.title_th,
            title_en=module.title_en,
            summary_th=module.summary_th,
            summary_en=module.summary_en,
        )
        db.session.add(new)
        db.session.flush()
        module_map[module.id] = new.id
    paths = asset_paths(course)
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)):
        db.session.add(
            Lesson(
                course_id=copy.id,
                module_id=module_map[lesson.module_id],
                key=lesson.key,
                position=lesson.position,
                title_th=lesson.title_th,
                title_en=lesson.title_en,
                minutes=lesson.minutes,
                body=lesson.body,
                body_html=services.render_lesson(slug, lesson.body, paths),
            )
        )
    quizzes = list(db.session.scalars(select(Quiz).where(Quiz.course_id == course.id)))
    for quiz in quizzes:
        new_quiz = Quiz(course_id=copy.id, module_id=module_map[quiz.module_id], key=quiz.key)
        for column in Quiz.__table__.columns.keys():  # noqa: SIM118 - a ColumnCollection
            if column not in ("id", "course_id", "module_id", "key"):
                setattr(new_quiz, column, getattr(quiz, column))
        db.session.add(new_quiz)
        db.session.flush()
        for question in quiz.questions:
            db.session.add(
                Question(
                    quiz_id=new_quiz.id,
                    key=question.key,  # unique within its quiz, and the copy is another course
                    position=question.position,
                    type=question.type,
                    title=question.title,
                    category=question.category,
                    points=question.points,
                    data=question.data,
                )
            )
    audit.record("course.duplicate", copy, source=course.slug)
    db.session.flush()
    return copy
