"""The course workshop: /studio/... (courses, modules, lessons, files, co-authors, tracks)."""

from __future__ import annotations

from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from academy.core.access import ADMIN, INSTRUCTOR, authorize, is_admin, role_required
from academy.core.errors import ServiceError
from academy.core.i18n import current_language
from academy.core.markdown import render_markdown
from academy.courses import services
from academy.courses.models import Course, CourseAsset, Lesson, Module
from academy.extensions import db
from academy.quizzes.models import Quiz
from academy.studio import services as authoring
from academy.studio.blueprint import bp
from academy.studio.duplicate import duplicate_course
from academy.studio.forms import (
    CourseForm,
    FileForm,
    InstructorForm,
    LessonForm,
    ModuleForm,
    NewModuleForm,
    TrackForm,
)

GUIDE_DIR = Path(__file__).parent / "guide"


def _course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    authorize("course.edit", course, hide=True)
    return course


def _module(module_id: int) -> tuple[Course, Module]:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    return _course(module.course_id), module


def _lesson(lesson_id: int) -> tuple[Course, Lesson]:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        abort(404)
    return _course(lesson.course_id), lesson


def _track_choices(form: CourseForm) -> None:
    # The standard tracks are offered even on a fresh database (they are added on save).
    known = {t.slug: t for t in services.list_tracks()}
    choices = [SelectChoice("", _("(no track)"))]
    language = current_language()
    for slug, name_th, name_en in services.STANDARD_TRACKS:
        if slug not in known:
            choices.append(SelectChoice(slug, name_en if language == "en" else name_th))
    for track in known.values():
        name = track.name_en if language == "en" and track.name_en else track.name_th
        choices.append(SelectChoice(track.slug, name))
    form.track.choices = choices


def _fields(form: CourseForm) -> authoring.CourseFields:
    return authoring.CourseFields(
        title_th=form.title_th.data or "",
        title_en=form.title_en.data,
        summary_th=form.summary_th.data,
        summary_en=form.summary_en.data,
        track=form.track.data or None,
        duration_minutes=form.duration_minutes.data,
        sequential=bool(form.sequential.data),
        language=form.language.data or "th",
    )


def _error(form, exc: ServiceError) -> None:
    target = getattr(form, exc.field or "", None) if form is not None else None
    if target is not None and hasattr(target, "errors"):
        if isinstance(target.errors, tuple):
            target.errors = list(target.errors)
        target.errors.append(exc.message)
    else:
        flash(exc.message, "error")


def _upload(field) -> tuple[str, bytes] | None:
    storage = field.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    try:
        return storage.filename, storage.read()
    finally:
        # A large upload is spooled to a temporary file: closed now, not when the garbage
        # collector finds it.
        storage.close()


# Where a quiz of the outline links to (and "add a quiz" leads), while the editor is there.
QUIZ_EDITORS = ("studio.quiz_questions",)


def quiz_editor() -> str | None:
    return next((e for e in QUIZ_EDITORS if e in current_app.view_functions), None)


@bp.route("/studio/")
@role_required(INSTRUCTOR)
def index():
    return render_template("studio/index.html", courses=authoring.my_courses(current_user))


@bp.route("/studio/courses/new", methods=["GET", "POST"])
@role_required(INSTRUCTOR)
def new_course():
    form = CourseForm()
    _track_choices(form)
    if form.validate_on_submit():
        try:
            course = authoring.create_course(current_user, form.slug.data, _fields(form))
            upload = _upload(form.cover)
            if upload:
                authoring.set_cover(course, *upload)
        except ServiceError as exc:
            _error(form, exc)
        else:
            flash(_("Course created. Add a module and lessons."), "success")
            return redirect(url_for("studio.course", course_id=course.id))
    return render_template("studio/new_course.html", form=form), (400 if form.errors else 200)


@bp.route("/studio/courses/<int:course_id>", methods=["GET", "POST"])
def course(course_id: int):
    course = _course(course_id)
    form = CourseForm(obj=course if request.method == "GET" else None)
    _track_choices(form)
    del form.slug
    if request.method == "GET":
        form.track.data = course.track.slug if course.track else ""
    if form.validate_on_submit():
        try:
            authoring.update_course(course, _fields(form))
            upload = _upload(form.cover)
            if upload:
                authoring.set_cover(course, *upload)
        except ServiceError as exc:
            _error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("studio.course", course_id=course.id))
    return render_template(
        "studio/course.html",
        course=course,
        form=form,
        module_form=NewModuleForm(formdata=None),
        author_form=InstructorForm(formdata=None),
        modules=services.outline(course),
        authors=authoring.instructors_of(course),
        quiz_editor=quiz_editor(),
    ), (400 if form.errors else 200)


@bp.route("/studio/courses/<int:course_id>/status", methods=["POST"])
def set_status(course_id: int):
    course = _course(course_id)
    try:
        authoring.set_status(course, request.form.get("status", ""))
    except ServiceError as exc:
        _error(None, exc)
    else:
        flash(
            _("Published.") if course.is_published else _("Unpublished: back to draft."), "success"
        )
    return redirect(url_for("studio.course", course_id=course.id))


@bp.route("/studio/courses/<int:course_id>/duplicate", methods=["POST"])
def duplicate(course_id: int):
    course = _course(course_id)
    copy = duplicate_course(course, current_user)
    flash(_("This is your copy. It is a draft until you publish it."), "success")
    return redirect(url_for("studio.course", course_id=copy.id))


@bp.route("/studio/courses/<int:course_id>/authors", methods=["POST"])
def add_author(course_id: int):
    course = _course(course_id)
    form = InstructorForm()
    if form.validate_on_submit():
        try:
            user = authoring.add_instructor(course, form.username.data)
        except ServiceError as exc:
            _error(None, exc)
        else:
            flash(_("%(name)s can now edit this course.", name=user.full_name), "success")
    else:
        flash(_("Please enter a username."), "error")
    return redirect(url_for("studio.course", course_id=course.id) + "#authors")


@bp.route("/studio/courses/<int:course_id>/authors/<int:user_id>/remove", methods=["POST"])
def remove_author(course_id: int, user_id: int):
    course = _course(course_id)
    try:
        authoring.remove_instructor(course, user_id)
    except ServiceError as exc:
        _error(None, exc)
    else:
        flash(_("Author removed."), "success")
    if user_id == current_user.id and not is_admin(current_user):
        return redirect(url_for("studio.index"))
    return redirect(url_for("studio.course", course_id=course.id) + "#authors")


@bp.route("/studio/courses/<int:course_id>/modules", methods=["POST"])
def add_module(course_id: int):
    course = _course(course_id)
    form = NewModuleForm()
    if form.validate_on_submit():
        module = authoring.add_module(course, form.title_th.data, form.title_en.data)
        return redirect(url_for("studio.course", course_id=course.id) + f"#module-{module.id}")
    flash(_("Please give the module a Thai title."), "error")
    return redirect(url_for("studio.course", course_id=course.id))


@bp.route("/studio/modules/<int:module_id>", methods=["GET", "POST"])
def module(module_id: int):
    course, module = _module(module_id)
    form = ModuleForm(obj=module)
    if form.validate_on_submit():
        try:
            authoring.update_module(module, form.title_th.data, form.title_en.data,
                                    form.summary_th.data, form.summary_en.data)  # fmt: skip
        except ServiceError as exc:
            _error(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("studio.course", course_id=course.id) + f"#module-{module.id}")
    return render_template("studio/module.html", course=course, module=module, form=form), (
        400 if form.errors else 200
    )


@bp.route("/studio/modules/<int:module_id>/quizzes", methods=["POST"])
def add_quiz(module_id: int):
    course, module = _module(module_id)
    editor = quiz_editor()
    if editor is None:
        abort(404)
    try:
        quiz = authoring.add_quiz(course, module, request.form.get("title_th", ""))
    except ServiceError as exc:
        _error(None, exc)
        return redirect(url_for("studio.course", course_id=course.id) + f"#module-{module.id}")
    return redirect(url_for(editor, quiz_id=quiz.id))


@bp.route("/studio/modules/<int:module_id>/move", methods=["POST"])
def move_module(module_id: int):
    course, module = _module(module_id)
    authoring.move_module(module, request.form.get("direction", ""))
    return redirect(url_for("studio.course", course_id=course.id) + f"#module-{module.id}")


@bp.route("/studio/modules/<int:module_id>/delete", methods=["POST"])
def delete_module(module_id: int):
    course, module = _module(module_id)
    authoring.delete_module(module)
    flash(_("Module deleted."), "success")
    return redirect(url_for("studio.course", course_id=course.id))


@bp.route("/studio/modules/<int:module_id>/lessons/new", methods=["GET", "POST"])
def new_lesson(module_id: int):
    course, module = _module(module_id)
    return _edit_lesson(course, module, None)


@bp.route("/studio/lessons/<int:lesson_id>", methods=["GET", "POST"])
def lesson(lesson_id: int):
    course, lesson = _lesson(lesson_id)
    return _edit_lesson(course, db.session.get(Module, lesson.module_id), lesson)


def _edit_lesson(course: Course, module: Module, lesson: Lesson | None):
    form = LessonForm(obj=lesson)
    preview_html = None
    if form.validate_on_submit():
        if "preview" in request.form:
            preview_html = Markup(authoring.preview(course, form.body.data or ""))  # noqa: S704 - sanitised
        else:
            try:
                saved = authoring.save_lesson(course, module, lesson, form.title_th.data,
                                              form.title_en.data, form.minutes.data,
                                              form.body.data or "")  # fmt: skip
            except ServiceError as exc:
                _error(form, exc)
            else:
                flash(_("Lesson saved."), "success")
                return redirect(url_for("studio.lesson", lesson_id=saved.id))
    elif lesson is not None:
        preview_html = Markup(lesson.body_html)  # noqa: S704 - sanitised when saved
    return render_template(
        "studio/lesson.html", course=course, module=module, lesson=lesson, form=form,
        preview_html=preview_html, assets=authoring.list_assets(course),
    ), (400 if form.errors else 200)  # fmt: skip


@bp.route("/studio/lessons/<int:lesson_id>/move", methods=["POST"])
def move_lesson(lesson_id: int):
    course, lesson = _lesson(lesson_id)
    authoring.move_item(lesson, request.form.get("direction", ""))
    return redirect(url_for("studio.course", course_id=course.id) + f"#module-{lesson.module_id}")


@bp.route("/studio/quizzes/<int:quiz_id>/move", methods=["POST"])
def move_quiz(quiz_id: int):
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    course = _course(quiz.course_id)
    authoring.move_item(quiz, request.form.get("direction", ""))
    return redirect(url_for("studio.course", course_id=course.id) + f"#module-{quiz.module_id}")


@bp.route("/studio/lessons/<int:lesson_id>/delete", methods=["POST"])
def delete_lesson(lesson_id: int):
    course, lesson = _lesson(lesson_id)
    authoring.delete_lesson(lesson)
    flash(_("Lesson deleted."), "success")
    return redirect(url_for("studio.course", course_id=course.id))


@bp.route("/studio/courses/<int:course_id>/preview", methods=["POST"])
def preview(course_id: int):
    """The live preview: Markdown in, the sanitised HTML the lesson page would show out."""
    course = _course(course_id)
    body = request.form.get("body", "")[:200000]
    return authoring.preview(course, body), 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.route("/studio/courses/<int:course_id>/files", methods=["GET", "POST"])
def course_files(course_id: int):
    course = _course(course_id)
    form = FileForm()
    added = None
    if form.validate_on_submit():
        upload = _upload(form.file)
        if upload is None:
            form.file.errors = [_("Please choose a file.")]
        else:
            try:
                added = authoring.add_file(course, *upload)
            except ServiceError as exc:
                _error(form, exc)
            else:
                flash(_("File added: %(path)s", path=added.path), "success")
                return redirect(url_for("studio.course_files", course_id=course.id))
    return render_template(
        "studio/files.html", course=course, form=form, assets=authoring.list_assets(course)
    ), (400 if form.errors else 200)


@bp.route("/studio/courses/<int:course_id>/files/<int:asset_id>/delete", methods=["POST"])
def delete_file(course_id: int, asset_id: int):
    course = _course(course_id)
    asset = db.session.get(CourseAsset, asset_id)
    if asset is None or asset.course_id != course.id:
        abort(404)
    try:
        authoring.delete_file(course, asset)
    except ServiceError as exc:
        _error(None, exc)
    else:
        flash(_("File deleted."), "success")
    return redirect(url_for("studio.course_files", course_id=course.id))


@bp.route("/studio/guide")
@role_required(INSTRUCTOR)
def guide():
    language = current_language()
    text = (GUIDE_DIR / f"{'en' if language == 'en' else 'th'}.md").read_text(encoding="utf-8")
    html = services.phone_friendly(str(render_markdown(text)))
    return render_template("studio/guide.html", guide_html=Markup(html))  # noqa: S704 - sanitised


@bp.route("/studio/tracks", methods=["GET", "POST"])
@role_required(ADMIN)
def tracks():
    form = TrackForm()
    if form.validate_on_submit():
        try:
            services.add_track(form.slug.data, form.name_th.data, form.name_en.data)
        except ServiceError as exc:
            _error(form, exc)
        else:
            flash(_("Track added."), "success")
            return redirect(url_for("studio.tracks"))
    return render_template("studio/tracks.html", form=form, tracks=services.list_tracks()), (
        400 if form.errors else 200
    )
