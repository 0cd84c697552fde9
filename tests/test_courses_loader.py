"""The course folder format: load, every bad input (file:line, nothing stored), re-import
keeps identity, export round trip, the CLI."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from academy import ROOT
from academy.courses import access, services
from academy.courses.models import Course, CourseAsset, Lesson, Module, Track
from academy.extensions import db
from academy.studio import export
from academy.studio.loader import CourseFormatError, load_course
from tests.fixtures.courses import LESSON, round_trip, tree, write_course
from tests.fixtures.files import PNG


def counts() -> tuple[int, ...]:
    from academy.quizzes.models import Question, Quiz

    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Course, Module, Lesson, CourseAsset, Quiz, Question)
    )


def test_loads_a_course_with_every_feature(app, tmp_path):
    course = load_course(write_course(tmp_path))
    assert course.slug == "test-course" and course.title_en == "Test course"
    assert course.summary_th == "สรุปหลายบรรทัด\nบรรทัดที่สอง"
    assert course.track.slug == "seller-academy" and course.sequential and course.is_published
    assert [m.key for m in course.modules] == ["intro", "more"]
    lesson = services.lesson_by_key(course, "first")
    assert lesson.minutes == 10 and lesson.title_th == "บทแรก"
    html = lesson.body_html
    assert 'src="/courses/test-course/assets/tag.png"' in html
    assert 'href="/courses/test-course/assets/docs/form.pdf"' in html
    assert '<div class="table-wrap" tabindex="0"><table>' in html
    assert 'class="admonition tip"' in html
    assets = {a.path: a for a in db.session.scalars(select(CourseAsset))}
    assert assets["assets/tag.png"].content_type == "image/png"
    assert assets["assets/cover.svg"].content_type == "image/svg+xml"
    assert assets["assets/docs/form.pdf"].content_type == "application/pdf"
    blob = Path(app.config["DATA_DIR"]) / "assets" / hashlib.sha256(PNG).hexdigest()
    assert blob.read_bytes() == PNG


def test_quiz_rows_from_gift(app, tmp_path):
    from academy.quizzes.models import Quiz

    course = load_course(write_course(tmp_path))
    quiz = db.session.scalar(select(Quiz).where(Quiz.course_id == course.id))
    assert (quiz.key, quiz.title_th, quiz.title_en) == ("check", "แบบทดสอบ", "Quiz")
    assert (quiz.pass_mark, quiz.attempts_allowed, quiz.shuffle_answers) == (70, 3, False)
    assert quiz.position == 3 and quiz.module_id == course.modules[0].id
    assert [(q.type, q.title) for q in quiz.questions] == [("single", "q1"), ("truefalse", "q2")]
    assert quiz.questions[0].data["answers"][0] == {"text": "ถูก", "fraction": 1.0, "feedback": "ใช่"}


def _bad(tmp_path, change) -> tuple[str, tuple[int, ...]]:
    folder = write_course(tmp_path)
    before = counts()
    change(folder)
    with pytest.raises(CourseFormatError) as caught:
        load_course(folder)
    assert counts() == before, "nothing may be stored from a bad folder"
    return str(caught.value).replace(str(tmp_path) + "/", ""), before


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BAD_CASES = {
    "missing course.yml": (
        lambda f: (f / "course.yml").unlink(),
        "test-course: course.yml is missing",
    ),
    "bad yaml": (
        lambda f: _edit(f / "course.yml", "duration_minutes: 60", "duration_minutes: [60"),
        "test-course/course.yml:13: YAML cannot be read",
    ),
    "bad status": (
        lambda f: _edit(f / "course.yml", "status: published", "status: live"),
        "test-course/course.yml:13: 'status' must be draft or published",
    ),
    "unknown setting": (
        lambda f: _edit(f / "course.yml", "language: th", "langauge: th"),
        "test-course/course.yml:15: unknown setting 'langauge'",
    ),
    "missing thai title": (
        lambda f: _edit(f / "course.yml", "  th: คอร์สทดสอบ\n", ""),
        "test-course/course.yml:2: 'title.th' is missing",
    ),
    "unknown track": (
        lambda f: _edit(f / "course.yml", "track: seller-academy", "track: cooking"),
        "test-course/course.yml:10: unknown track 'cooking'",
    ),
    "bad slug": (
        lambda f: _edit(f / "course.yml", "slug: test-course", "slug: Test Course"),
        "test-course/course.yml:1: 'slug' must be",
    ),
    "cover missing": (
        lambda f: _edit(f / "course.yml", "cover: assets/cover.svg", "cover: assets/nope.svg"),
        "test-course/course.yml:11: 'cover': assets/nope.svg is not a file in assets/",
    ),
    "cover leaves folder": (
        lambda f: _edit(f / "course.yml", "cover: assets/cover.svg", "cover: assets/../../x.svg"),
        "test-course/course.yml:11: 'cover' must not leave the course folder",
    ),
    "duplicate id": (
        lambda f: _edit(f / "02-more" / "01-third.md", "id: third", "id: first"),
        "test-course/02-more/01-third.md:2: duplicate id 'first' (also used in",
    ),
    "module id clashes with lesson": (
        lambda f: _edit(f / "02-more" / "module.yml", "id: more", "id: second"),
        "test-course/02-more/module.yml:1: duplicate id 'second'",
    ),
    "bad id": (
        lambda f: _edit(f / "01-intro" / "02-second.md", "id: second", "id: Second Lesson"),
        "test-course/01-intro/02-second.md:2: 'id' must be 1-64 characters",
    ),
    "missing module.yml": (
        lambda f: (f / "02-more" / "module.yml").unlink(),
        "test-course/02-more: module.yml is missing",
    ),
    "broken image link": (
        lambda f: _edit(f / "01-intro" / "02-second.md", "assets/tag.png", "assets/gone.png"),
        "test-course/01-intro/02-second.md:10: link 'assets/gone.png' is not a file in assets/",
    ),
    "dot-dot link": (
        lambda f: _edit(f / "01-intro" / "02-second.md", "assets/tag.png", "../../etc/passwd"),
        "test-course/01-intro/02-second.md:10: link '../../etc/passwd' leaves the course folder",
    ),
    "dot-dot inside assets": (
        lambda f: _edit(
            f / "01-intro" / "01-first.md", "assets/docs/form.pdf", "assets/../course.yml"
        ),
        "test-course/01-intro/01-first.md:19: link 'assets/../course.yml' leaves the course folder",
    ),
    "relative link outside assets": (
        lambda f: _edit(f / "02-more" / "01-third.md", "assets/tag.png", "tag.png"),
        "test-course/02-more/01-third.md:10: link 'tag.png' must be a file in assets/",
    ),
    "not utf-8": (
        lambda f: (f / "01-intro" / "01-first.md").write_bytes(
            LESSON.format(id="first", title="x").encode() + "\nบรรทัด".encode("cp874")
        ),
        "test-course/01-intro/01-first.md:21: not UTF-8",
    ),
    "no front matter": (
        lambda f: (f / "01-intro" / "01-first.md").write_text("# just text\n", encoding="utf-8"),
        "test-course/01-intro/01-first.md:1: a lesson starts with a `---` line",
    ),
    "unclosed front matter": (
        lambda f: (f / "01-intro" / "01-first.md").write_text("---\nid: a\n", encoding="utf-8"),
        "test-course/01-intro/01-first.md:1: the front matter is not closed",
    ),
    "bad front matter yaml": (
        lambda f: _edit(f / "01-intro" / "01-first.md", "minutes: 10", "minutes: : 10"),
        "test-course/01-intro/01-first.md:6: YAML cannot be read",
    ),
    "bad minutes": (
        lambda f: _edit(f / "01-intro" / "01-first.md", "minutes: 10", "minutes: ten"),
        "test-course/01-intro/01-first.md:6: 'minutes' must be a whole number",
    ),
    "stray file in module": (
        lambda f: (f / "01-intro" / "notes.txt").write_text("x", encoding="utf-8"),
        "test-course/01-intro/notes.txt: unexpected file",
    ),
    "unnumbered lesson": (
        lambda f: (f / "01-intro" / "01-first.md").rename(f / "01-intro" / "first.md"),
        "test-course/01-intro/first.md: unexpected file",
    ),
    "stray file in course": (
        lambda f: (f / "README.md").write_text("x", encoding="utf-8"),
        "test-course/README.md: unexpected file",
    ),
    "disguised asset": (
        lambda f: (f / "assets" / "tag.png").write_bytes(b"<html><script>alert(1)</script></html>"),
        "test-course/assets/tag.png: this kind of file is not accepted",
    ),
    "svg with script": (
        lambda f: (f / "assets" / "cover.svg").write_bytes(
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        ),
        "test-course/assets/cover.svg: SVG contains active content",
    ),
    "svg with handler": (
        lambda f: (f / "assets" / "cover.svg").write_bytes(
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
        ),
        "test-course/assets/cover.svg: SVG contains active content",
    ),
    "svg with foreign reference": (
        lambda f: (f / "assets" / "cover.svg").write_bytes(
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>'
        ),
        "test-course/assets/cover.svg: SVG refers to another file or site",
    ),
    "asset name with space": (
        lambda f: (f / "assets" / "my photo.png").write_bytes(PNG),
        "test-course/assets/my photo.png: file names in assets/",
    ),
    "quiz parse error": (
        lambda f: _edit(f / "01-intro" / "03-check.gift", "::q2:: โลกกลม {T}", "::q2:: โลกกลม {T"),
        "test-course/01-intro/03-check.gift:13: the answer block",
    ),
    "lesson markdown bomb": (
        lambda f: _edit(f / "01-intro" / "01-first.md", "## หัวข้อ", "[" * 40_000),
        "test-course/01-intro/01-first.md:8: Too many [ without a closing partner",
    ),
    "summary markdown bomb": (
        lambda f: _edit(f / "course.yml", "en: A summary", "en: '" + "[" * 40_000 + "'"),
        "test-course/course.yml:",
    ),
    "quiz missing id": (
        lambda f: _edit(f / "01-intro" / "03-check.gift", "// @id: check\n", ""),
        "test-course/01-intro/03-check.gift:1: '// @id: ...' is missing",
    ),
    "quiz bad setting": (
        lambda f: _edit(f / "01-intro" / "03-check.gift", "@pass_mark: 70", "@pass_mark: 170"),
        "test-course/01-intro/03-check.gift:4: '@pass_mark' must be a whole number from 0 to 100",
    ),
    "quiz unknown setting": (
        lambda f: _edit(f / "01-intro" / "03-check.gift", "@attempts: 3", "@tries: 3"),
        "test-course/01-intro/03-check.gift:5: unknown quiz setting '@tries'",
    ),
    "quiz duplicate id": (
        lambda f: _edit(f / "01-intro" / "03-check.gift", "@id: check", "@id: first"),
        "test-course/01-intro/03-check.gift:1: duplicate id 'first'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_folder_names_file_and_line_and_stores_nothing(app, tmp_path, case):
    change, expected = BAD_CASES[case]
    message, _ = _bad(tmp_path, change)
    assert message.startswith(expected), message


def test_bad_update_leaves_the_previous_version_intact(app, tmp_path):
    folder = write_course(tmp_path)
    load_course(folder)
    before = counts()
    titles = sorted(db.session.scalars(select(Lesson.title_th)))
    _edit(folder / "01-intro" / "01-first.md", "th: บทแรก", "th: ใหม่")
    _edit(folder / "02-more" / "01-third.md", "minutes: 10", "minutes: -1")
    with pytest.raises(CourseFormatError):
        load_course(folder)
    assert counts() == before
    assert sorted(db.session.scalars(select(Lesson.title_th))) == titles


def test_reimport_keeps_ids_and_progress_rows(app, tmp_path, make_user):
    from academy.quizzes.models import Question, Quiz

    folder = write_course(tmp_path)
    course = load_course(folder)
    ids = {lesson.key: lesson.id for lesson in db.session.scalars(select(Lesson))}
    module_ids = {m.key: m.id for m in db.session.scalars(select(Module))}
    quiz = db.session.scalar(select(Quiz))
    question_ids = [q.id for q in quiz.questions]
    learner = make_user()
    services.enrol(learner, course)
    db.session.commit()

    # Rename files, retitle, move a lesson to the other module, add one, remove one.
    (folder / "01-intro" / "01-first.md").rename(folder / "01-intro" / "05-renamed.md")
    _edit(folder / "01-intro" / "05-renamed.md", "th: บทแรก", "th: ชื่อใหม่")
    (folder / "01-intro" / "02-second.md").rename(folder / "02-more" / "02-second.md")
    (folder / "02-more" / "03-new.md").write_text(
        LESSON.format(id="new", title="ใหม่"), encoding="utf-8"
    )
    (folder / "02-more" / "01-third.md").unlink()
    _edit(folder / "01-intro" / "03-check.gift", "@pass_mark: 70", "@pass_mark: 50")
    load_course(folder)

    lessons = {lesson.key: lesson for lesson in db.session.scalars(select(Lesson))}
    assert set(lessons) == {"first", "second", "new"}
    assert lessons["first"].id == ids["first"] and lessons["first"].title_th == "ชื่อใหม่"
    assert lessons["second"].id == ids["second"]
    assert lessons["second"].module_id == module_ids["more"]
    assert {m.key: m.id for m in db.session.scalars(select(Module))} == module_ids
    db.session.refresh(quiz)
    assert quiz.pass_mark == 50 and [q.id for q in quiz.questions] == question_ids
    assert db.session.scalar(select(func.count(Question.id))) == 2
    assert access.is_enrolled(learner, course.id)


def test_progress_rows_survive_reimport(app, tmp_path, make_user):
    """Learner progress rows point at lesson ids: a re-import that changes the text keeps them."""
    from academy.progress.models import LessonProgress

    folder = write_course(tmp_path)
    course = load_course(folder)
    learner = make_user()
    lesson = services.lesson_by_key(course, "first")
    db.session.add(LessonProgress(user_id=learner.id, lesson_id=lesson.id, course_id=course.id))
    db.session.commit()
    _edit(folder / "01-intro" / "01-first.md", "## หัวข้อ", "## หัวข้อใหม่")
    (folder / "01-intro" / "01-first.md").rename(folder / "02-more" / "09-first.md")
    load_course(folder)
    db.session.expire_all()
    assert db.session.get(LessonProgress, (learner.id, lesson.id)) is not None
    assert "หัวข้อใหม่" in db.session.get(Lesson, lesson.id).body_html


def test_round_trip_is_byte_identical(app, tmp_path):
    exported = round_trip(tmp_path, write_course(tmp_path / "src"))
    assert set(exported) == {
        "course.yml", "assets/cover.svg", "assets/tag.png", "assets/docs/form.pdf",
        "01-intro/module.yml", "01-intro/01-first.md", "01-intro/02-second.md",
        "01-intro/03-check.gift", "02-more/module.yml", "02-more/01-third.md",
    }  # fmt: skip
    assert exported["assets/tag.png"] == PNG
    assert (
        exported["01-intro/01-first.md"]
        .decode()
        .startswith("---\nid: first\ntitle:\n  th: บทแรก\n")
    )
    # The author's own course.yml comes back (their `|`, not the export's `|-`).
    assert exported["course.yml"] == (tmp_path / "src" / "test-course" / "course.yml").read_bytes()


STARTER = sorted(p for p in (ROOT / "courses").glob("*") if (p / "course.yml").is_file())


@pytest.mark.parametrize("folder", STARTER, ids=[p.name for p in STARTER])
def test_starter_courses_load_andround_trip(app, tmp_path, folder):
    round_trip(tmp_path, folder)


@pytest.mark.parametrize("folder", STARTER, ids=[p.name for p in STARTER])
def test_exporting_a_starter_course_gives_back_its_files_in_git(app, tmp_path, folder):
    export.export_course(load_course(folder), tmp_path / "out")
    assert tree(tmp_path / "out") == tree(folder)


def test_an_edited_course_is_written_anew_under_the_authors_names(app, tmp_path):
    from academy.studio import services as authoring

    folder = ROOT / "courses" / "tiktok-shop-starter"
    course = load_course(folder)
    lesson = services.lesson_by_key(course, "shop-setup-account")
    module = db.session.get(Module, lesson.module_id)
    authoring.save_lesson(course, module, lesson, lesson.title_th, lesson.title_en,
                          lesson.minutes, lesson.body + "\n\nเพิ่มเติม")  # fmt: skip
    exported = export.course_files(course)
    original = tree(folder)
    assert set(exported) == set(original)  # every name kept
    changed = [name for name in exported if exported[name] != original[name]]
    assert changed == ["01-shop-setup/01-seller-account.md"]
    assert exported[changed[0]].decode().endswith("เพิ่มเติม\n")
    # Moved below its neighbour: the numbers run again in the new order, the names stay.
    authoring.move_item(lesson, "down")
    exported = export.course_files(course)
    assert {n for n in exported if n.startswith("01-shop-setup/0")} == {
        "01-shop-setup/01-shop-profile.md", "01-shop-setup/02-seller-account.md",
        "01-shop-setup/03-shop-setup-quiz.gift",
    }  # fmt: skip
    assert (
        exported["01-shop-setup/01-shop-profile.md"] == original["01-shop-setup/02-shop-profile.md"]
    )


def test_export_refuses_a_folder_with_files(app, tmp_path):
    course = load_course(write_course(tmp_path))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    with pytest.raises(CourseFormatError, match="not empty"):
        export.export_course(course, tmp_path / "out")


def test_standard_tracks_are_seeded_once(app):
    services.ensure_standard_tracks()
    services.ensure_standard_tracks()
    db.session.commit()
    tracks = services.list_tracks()
    assert [(t.slug, t.name_th) for t in tracks] == [
        ("seller-academy", "เซลเลอร์อะคาเดมี"),
        ("digital-skills", "ทักษะดิจิทัล"),
        ("smart-environment", "สิ่งแวดล้อมอัจฉริยะ"),
        ("otop", "OTOP"),
    ]
    assert tracks[0].name_en == "Seller Academy"


def test_cli_import_export_and_errors(app, runner, tmp_path):
    folder = write_course(tmp_path / "src")
    result = runner.invoke(args=["academy", "import-course", str(folder)])
    assert result.exit_code == 0, result.output
    assert "imported test-course" in result.output
    result = runner.invoke(args=["academy", "export-course", "test-course", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "course.yml").is_file()
    result = runner.invoke(args=["academy", "export-course", "nope", str(tmp_path / "o2")])
    assert result.exit_code != 0 and "no course with the slug 'nope'" in result.output
    _edit(folder / "course.yml", "status: published", "status: maybe")
    result = runner.invoke(args=["academy", "import-course", str(folder)])
    assert result.exit_code == 1
    assert "course.yml:13: 'status' must be draft or published" in result.output


def test_cli_import_courses_stops_at_the_first_bad_course(app, runner, tmp_path):
    base = tmp_path / "courses"
    good = write_course(base)
    good.rename(base / "a-good")
    bad = write_course(base)
    _edit(bad / "course.yml", "slug: test-course", "slug: second")
    _edit(bad / "01-intro" / "01-first.md", "minutes: 10", "minutes: x")
    bad.rename(base / "b-bad")
    result = runner.invoke(args=["academy", "import-courses", "--from", str(base)])
    assert result.exit_code == 1
    assert "b-bad/01-intro/01-first.md:6:" in result.output and "stopped: b-bad" in result.output
    assert services.course_by_slug("test-course") is not None
    assert services.course_by_slug("second") is None


def test_track_added_by_admin_can_be_used(app, tmp_path):
    services.add_track("young-farmers", "เกษตรกรรุ่นใหม่", "Young farmers")
    db.session.commit()
    folder = write_course(tmp_path)
    _edit(folder / "course.yml", "track: seller-academy", "track: young-farmers")
    assert load_course(folder).track.slug == "young-farmers"
    assert db.session.scalar(select(func.count(Track.id))) == 5


def test_cli_import_courses_refuses_two_folders_with_one_slug(app, runner, tmp_path):
    base = tmp_path / "courses"
    write_course(base).rename(base / "a")
    write_course(base).rename(base / "b")
    result = runner.invoke(args=["academy", "import-courses", "--from", str(base)])
    assert result.exit_code == 1
    assert "b/course.yml: slug 'test-course' is also used by" in result.output
    assert services.course_by_slug("test-course") is None


def test_an_ordinary_comment_at_the_top_of_a_quiz_is_not_a_setting(app, tmp_path):
    from academy.quizzes.models import Quiz

    folder = write_course(tmp_path)
    quiz = folder / "01-intro" / "03-check.gift"
    quiz.write_text("// @todo review\n" + quiz.read_text(encoding="utf-8"), encoding="utf-8")
    load_course(folder)
    assert db.session.scalar(select(Quiz.pass_mark).where(Quiz.key == "check")) == 70


def test_every_broken_file_is_named_at_once_and_nothing_is_stored(app, runner, tmp_path):
    folder = write_course(tmp_path)
    _edit(folder / "01-intro" / "01-first.md", "id: first", "id: [first")
    (folder / "02-more" / "notes.txt").write_text("ลืมไว้")
    (folder / "assets" / "bad name.png").write_bytes(PNG)
    result = runner.invoke(args=["academy", "import-course", str(folder)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if ".md:" in line or "/" in line]
    assert any("assets/bad name.png: file names in assets/" in line for line in lines)
    assert any("01-intro/01-first.md:3: YAML cannot be read" in line for line in lines)
    assert any("02-more/notes.txt: unexpected file" in line for line in lines)
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_questions_without_ids_get_them_and_keep_them_through_reordering(app, tmp_path):
    """A teacher's quiz file without `// @question:` lines loads, its questions are given ids,
    and the export carries them (the author's file with the lines added): reordered and
    retitled in that exported folder, each question is still its row."""
    from academy.quizzes.models import Question

    folder = write_course(tmp_path / "src")
    authored = (folder / "01-intro" / "03-check.gift").read_text()
    course = load_course(folder)
    rows = {q.title: (q.id, q.key) for q in db.session.scalars(select(Question))}
    assert len({key for _id, key in rows.values()}) == 2
    export.export_course(course, tmp_path / "out")
    exported = (tmp_path / "out" / "01-intro" / "03-check.gift").read_text()
    assert exported == authored.replace("::q1::", f"// @question: {rows['q1'][1]}\n::q1::").replace(
        "::q2::", f"// @question: {rows['q2'][1]}\n::q2::"
    )
    blocks = exported.split("\n\n")  # header, q1, q2
    swapped = "\n\n".join([blocks[0], blocks[2].rstrip("\n"),
                           blocks[1].replace("::q1::", "::renamed::")]) + "\n"  # fmt: skip
    (tmp_path / "out" / "01-intro" / "03-check.gift").write_text(swapped)
    load_course(tmp_path / "out")
    db.session.expire_all()
    after = [(q.title, q.id, q.key, q.position) for q in db.session.scalars(
        select(Question).order_by(Question.position))]  # fmt: skip
    assert after == [("q2", *rows["q2"], 1), ("renamed", *rows["q1"], 2)]


def test_a_question_id_that_breaks_the_rule_names_its_line(app, tmp_path):
    folder = write_course(tmp_path)
    quiz = folder / "01-intro" / "03-check.gift"
    quiz.write_text(quiz.read_text().replace("::q2::", "// @question: No Spaces\n::q2::"))
    with pytest.raises(CourseFormatError) as caught:
        load_course(folder)
    assert "03-check.gift:13: the question id 'No Spaces' must be 1-64 characters" in str(
        caught.value
    )
