"""An XSS corpus in every text people type that others see (lesson text, question text,
people's names, class, school and course names), shown in a real Chromium: no dialog may open,
no payload may run (each sets window.__xss), and no inline script may even reach the page (a
CSP refusal in the console means escaping failed and only the CSP saved us)."""

from __future__ import annotations

import pytest

from academy.classes.models import Class, School
from academy.core.markdown import render_markdown
from academy.courses.models import Course, Lesson, Module
from academy.extensions import db
from academy.quizzes import services as quizzes
from academy.quizzes.models import Question
from academy.quizzes.questions import Question as QuestionData
from academy.studio import services as authoring
from tests.browser.conftest import sign_in
from tests.fixtures.auth import PASSWORD

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1;alert(1)">',
    "<svg onload=window.__xss=1><script>alert(1)</script></svg>",
    '<a href="javascript:window.__xss=1">ลิงก์</a>',
    "{{7*7}}{{config}}",
    "' onmouseover='window.__xss=1",
]
LINE = " ".join(PAYLOADS)
MARKDOWN = "\n\n".join(
    [
        *PAYLOADS,
        '<iframe src="javascript:window.__xss=1"></iframe>',
        "<svg><script>window.__xss=1</script></svg>",
    ]
)
# Links the studio refuses to save; the course loader's files could still hold them, so the
# renderer gets them too.
LINKS = "[คลิก](javascript:window.__xss=1)\n\n![x](x onerror=window.__xss=1)\n\n" + MARKDOWN


@pytest.fixture
def hostile(world):
    learner = world.user("learner")
    learner.full_name = "มาลี " + LINE
    course = db.session.get(Course, world.ids["course_id"])
    course.title_th = course.title_en = "วิชา " + LINE
    course.summary_th = LINE
    klass = db.session.get(Class, world.ids["class_id"])
    klass.name = "ม.2/1 " + PAYLOADS[1][:100]
    school = db.session.get(School, world.ids["school_id"])
    school.name = "โรงเรียน " + PAYLOADS[1][:150]
    module = db.session.get(Module, world.ids["module_id"])
    lesson = db.session.get(Lesson, world.ids["lesson_id"])
    authoring.save_lesson(course, module, lesson, "บทเรียน " + LINE[:200], None, 5, MARKDOWN)
    lesson.body_html = str(render_markdown(LINKS))
    question = db.session.get(Question, world.ids["question_id"])
    quizzes.set_question(
        question,
        QuestionData.from_dict(
            {
                "type": "single",
                "title": "Q " + PAYLOADS[0],
                "text": MARKDOWN,
                "answers": [{"text": PAYLOADS[1], "fraction": 1.0}, {"text": "b", "fraction": 0}],
            }
        ),
    )
    db.session.commit()
    return world


def _pages(world) -> dict[str, list[str]]:
    ids = world.ids
    return {
        "learner": [
            "/",
            "/courses",
            f"/courses/{ids['slug']}",
            f"/courses/{ids['slug']}/lessons/{ids['key']}",
            f"/quizzes/{ids['quiz_id']}",
            f"/attempts/{ids['attempt_id']}",
            "/dashboard",
            "/certificates",
        ],
        "teacher": [
            f"/classes/{ids['class_id']}",
            f"/classes/{ids['class_id']}/gradebook",
            f"/classes/{ids['class_id']}/stuck",
            f"/classes/{ids['class_id']}/learners/{ids['user_id']}",
            f"/quizzes/{ids['quiz_id']}/questions",
            f"/quizzes/{ids['quiz_id']}/results",
            f"/quizzes/{ids['quiz_id']}/marking",
            f"/studio/courses/{ids['course_id']}",
            f"/studio/lessons/{ids['lesson_id']}",
            "/people",
            "/classes",
        ],
        "admin": [
            "/admin/schools",
            f"/admin/schools/{ids['school_id']}",
            "/reports/",
            "/admin/audit",
            "/people?q=" + "มาลี",
        ],
    }


@pytest.mark.parametrize("role", ["learner", "teacher", "admin"])
def test_no_payload_runs_in_a_real_browser(page, hostile, role):
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.on("pageerror", lambda e: console.append(str(e)))
    sign_in(page, hostile.user(role).username, PASSWORD)
    visited = []
    for url in _pages(hostile)[role]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("load")
        for link in page.locator("a[href^='javascript:' i]").all():
            raise AssertionError(f"javascript: link on {url}: {link.get_attribute('href')}")
        assert page.evaluate("window.__xss") is None, f"a payload ran on {url}"
        visited.append(url)
    assert page.dialogs == [], page.dialogs
    refused = [m for m in console if "Content Security Policy" in m]
    assert not refused, f"inline script reached the page (CSP refused it): {refused[:3]}"
    assert len(visited) == len(_pages(hostile)[role])
