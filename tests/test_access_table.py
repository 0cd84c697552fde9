"""Every route of the app, as every kind of person, against one world (tests/fixtures/hardening.py):
anonymous, the learner (owns the attempt), another learner of the same class, an instructor of
another class (`stranger`), the class's instructor (`teacher`, also the course's author), an
admin. URL ids are the learner's and the class's objects, so a row for `other` or `stranger` is
"change the id in the address bar": it must answer 403 or 404, never the object.

A route without a row here fails test_every_route_has_a_row: add one when you add a route.
POSTs carry a CSRF token and an empty form (the status of a refused request is what matters;
the form fuzzer in test_fuzz_forms.py posts real values). S = 302 to the sign-in page."""

from __future__ import annotations

import pytest

from tests.fixtures.hardening import ROLES, endpoint_rules, fill_url

S = "sign-in"

# (endpoint, method):                          anonymous learner other stranger teacher admin
ACCESS: dict[tuple[str, str], tuple] = {
    ("admin.audit_log", "GET"):                   (S, 403, 403, 403, 403, 200),
    ("admin.index", "GET"):                       (S, 403, 403, 403, 403, 200),
    ("admin.index", "POST"):                      (S, 403, 403, 403, 403, 302),
    ("assignments.assignment", "GET"):            (S, 200, 200, 200, 200, 200),
    ("assignments.hand_in", "POST"):              (S, 400, 400, 403, 403, 403),
    ("assignments.mine", "GET"):                  (S, 200, 200, 200, 200, 200),
    ("assignments.photo", "GET"):                 (S, 200, 404, 404, 200, 200),
    ("assignments.queue", "GET"):                 (S, 403, 403, 200, 200, 200),
    ("assignments.review", "GET"):                (S, 404, 404, 404, 200, 200),
    ("assignments.review", "POST"):               (S, 404, 404, 404, 400, 400),
    ("auth.change_active", "POST"):               (S, 403, 403, 403, 403, 302),
    ("auth.change_password", "GET"):              (S, 200, 200, 200, 200, 200),
    ("auth.change_password", "POST"):             (S, 400, 400, 400, 400, 400),
    ("auth.change_role", "POST"):                 (S, 403, 403, 403, 403, 400),
    ("auth.new_person", "GET"):                   (S, 403, 403, 200, 200, 200),
    ("auth.new_person", "POST"):                  (S, 403, 403, 400, 400, 400),
    ("auth.people", "GET"):                       (S, 403, 403, 200, 200, 200),
    ("auth.new_recovery_codes", "POST"):          (S, 200, 200, 200, 200, 200),
    ("auth.recover", "GET"):                      (200, 302, 302, 302, 302, 302),
    ("auth.recover", "POST"):                     (400, 302, 302, 302, 302, 302),
    ("auth.register", "GET"):                     (200, 302, 302, 302, 302, 302),
    ("auth.register", "POST"):                    (400, 302, 302, 302, 302, 302),
    ("auth.reset_password", "POST"):              (S, 403, 403, 404, 200, 200),
    ("auth.sign_in", "GET"):                      (200, 302, 302, 302, 302, 302),
    ("auth.sign_in", "POST"):                     (400, 302, 302, 302, 302, 302),
    ("auth.sign_out", "POST"):                    (S, S, S, S, S, S),
    ("auth.sign_out_person_everywhere", "POST"):  (S, 403, 403, 403, 403, 302),
    ("certificates.admin_list", "GET"):           (S, 403, 403, 403, 403, 200),
    ("certificates.badge_class", "GET"):          (200, 200, 200, 200, 200, 200),
    ("certificates.badge_image", "GET"):          (200, 200, 200, 200, 200, 200),
    ("certificates.badge_recipient", "POST"):     (S, 302, 404, 404, 403, 403),
    ("certificates.class_zip", "GET"):            (S, 404, 404, 404, 200, 200),
    ("certificates.design", "GET"):               (S, 404, 404, 404, 200, 200),
    ("certificates.design", "POST"):              (S, 404, 404, 404, 400, 400),
    ("certificates.detail", "GET"):               (S, 200, 404, 404, 200, 200),
    ("certificates.image", "GET"):                (200, 200, 200, 200, 200, 200),
    ("certificates.issuer", "GET"):               (200, 200, 200, 200, 200, 200),
    ("certificates.mine", "GET"):                 (S, 200, 200, 200, 200, 200),
    ("certificates.name_visibility", "POST"):     (S, 302, 404, 404, 404, 404),
    ("certificates.pdf", "GET"):                  (S, 200, 404, 404, 200, 200),
    ("certificates.preview", "GET"):              (S, 404, 404, 404, 200, 200),
    ("certificates.reissue", "POST"):             (S, 403, 403, 403, 403, 302),
    ("certificates.revoke", "POST"):              (S, 403, 403, 403, 403, 302),
    ("certificates.verify", "GET"):               (200, 200, 200, 200, 200, 200),
    ("certificates.verify_form", "GET"):          (200, 200, 200, 200, 200, 200),
    ("certificates.verify_form", "POST"):         (200, 200, 200, 200, 200, 200),
    ("certificates.verify_json", "GET"):          (200, 200, 200, 200, 200, 200),
    ("classes.add_instructor", "POST"):           (S, 403, 403, 403, 403, 400),
    ("classes.cards", "POST"):                    (S, 403, 403, 404, 200, 200),
    ("classes.confirm_import", "POST"):           (S, 403, 403, 404, 400, 400),
    ("classes.detail", "GET"):                    (S, 403, 403, 404, 200, 200),
    ("classes.enrol", "POST"):                    (S, 403, 403, 404, 302, 302),
    ("classes.import_class", "GET"):              (S, 403, 403, 404, 200, 200),
    ("classes.import_progress", "GET"):           (S, 403, 403, 404, 200, 200),
    ("classes.import_class", "POST"):             (S, 403, 403, 404, 400, 400),
    ("classes.join", "GET"):                      (S, 200, 200, 403, 403, 200),
    ("classes.join", "POST"):                     (S, 400, 400, 403, 403, 400),
    ("classes.move_member", "POST"):              (S, 403, 403, 404, 302, 302),
    ("classes.my_classes", "GET"):                (S, 403, 403, 200, 200, 200),
    ("classes.new_class", "GET"):                 (S, 403, 403, 200, 200, 200),
    ("classes.new_class", "POST"):                (S, 403, 403, 400, 400, 400),
    ("classes.new_code", "POST"):                 (S, 403, 403, 404, 400, 400),
    ("classes.poster", "GET"):                    (S, 403, 403, 404, 200, 200),
    ("classes.programmes", "GET"):                (S, 403, 403, 403, 403, 200),
    ("classes.programmes", "POST"):               (S, 403, 403, 403, 403, 400),
    ("classes.remove_instructor", "POST"):        (S, 403, 403, 403, 403, 302),
    ("classes.remove_member", "POST"):            (S, 403, 403, 404, 302, 302),
    ("classes.reset_passwords", "POST"):          (S, 403, 403, 404, 200, 200),
    ("classes.school", "GET"):                    (S, 403, 403, 403, 403, 200),
    ("classes.school", "POST"):                   (S, 403, 403, 403, 403, 200),
    ("classes.schools", "GET"):                   (S, 403, 403, 403, 403, 200),
    ("classes.schools", "POST"):                  (S, 403, 403, 403, 403, 400),
    ("classes.unenrol", "POST"):                  (S, 403, 403, 404, 302, 302),
    ("coaching.add_note", "POST"):                (S, 403, 403, 404, 400, 400),
    ("coaching.delete_milestone", "POST"):        (S, 403, 403, 403, 403, 302),
    ("coaching.learner", "GET"):                  (S, 403, 403, 404, 200, 200),
    ("coaching.milestones", "GET"):               (S, 403, 403, 403, 403, 200),
    ("coaching.milestones", "POST"):              (S, 403, 403, 403, 403, 400),
    ("coaching.my_learners", "GET"):              (S, 403, 403, 200, 200, 200),
    ("coaching.my_path", "GET"):                  (S, 200, 200, 200, 200, 200),
    ("coaching.tick", "POST"):                    (S, 400, 404, 404, 400, 400),
    ("coaching.untick", "POST"):                  (S, 302, 404, 404, 302, 302),
    ("courses.asset", "GET"):                     (200, 200, 200, 200, 200, 200),
    ("courses.catalogue", "GET"):                 (200, 200, 200, 200, 200, 200),
    ("courses.course", "GET"):                    (200, 200, 200, 200, 200, 200),
    ("courses.enrol", "POST"):                    (S, 302, 302, 302, 302, 302),
    ("courses.lesson", "GET"):                    (S, 200, 200, 200, 200, 200),
    ("courses.lesson_done", "POST"):              (S, 302, 302, 302, 302, 302),
    ("courses.lesson_viewed", "POST"):            (S, 204, 204, 204, 204, 204),
    ("courses.offline_manifest", "GET"):          (S, 200, 200, 403, 403, 403),
    ("main.healthz", "GET"):                      (200, 200, 200, 200, 200, 200),
    ("main.home", "GET"):                         (200, 302, 302, 302, 302, 200),
    ("main.manifest", "GET"):                     (200, 200, 200, 200, 200, 200),
    ("main.offline", "GET"):                      (200, 200, 200, 200, 200, 200),
    ("main.service_worker", "GET"):               (200, 200, 200, 200, 200, 200),
    ("main.set_language", "POST"):                (400, 400, 400, 400, 400, 400),
    ("periods.attendance", "GET"):                (S, 404, 404, 404, 200, 200),
    ("periods.attendance", "POST"):               (S, 404, 404, 404, 302, 302),
    ("periods.attendance_csv", "GET"):            (S, 404, 404, 404, 200, 200),
    ("periods.attendance_month", "GET"):          (S, 404, 404, 404, 200, 200),
    ("periods.board", "GET"):                     (S, 404, 404, 404, 200, 200),
    ("periods.board_json", "GET"):                (S, 404, 404, 404, 200, 200),
    ("periods.close_quiz", "POST"):               (S, 404, 404, 404, 400, 400),
    ("periods.console", "GET"):                   (S, 404, 404, 404, 200, 200),
    ("periods.end", "POST"):                      (S, 404, 404, 404, 302, 302),
    ("periods.go_to", "POST"):                    (S, 404, 404, 404, 400, 400),
    ("periods.next_item", "POST"):                (S, 404, 404, 404, 302, 302),
    ("periods.open_quiz", "POST"):                (S, 404, 404, 404, 400, 400),
    ("periods.poll", "GET"):                      (S, 200, 200, 200, 200, 200),
    ("periods.previous_item", "POST"):            (S, 404, 404, 404, 302, 302),
    ("periods.sign_out_room", "POST"):            (S, 404, 404, 404, 302, 302),
    ("periods.start", "POST"):                    (S, 404, 404, 404, 400, 400),
    ("periods.summary", "GET"):                   (S, 404, 404, 404, 200, 200),
    ("progress.dashboard", "GET"):                (S, 200, 200, 200, 200, 200),
    ("progress.gradebook", "GET"):                (S, 404, 404, 404, 200, 200),
    ("progress.gradebook_csv", "GET"):            (S, 404, 404, 404, 200, 200),
    ("progress.learner", "GET"):                  (S, 404, 404, 404, 200, 200),
    ("progress.stuck", "GET"):                    (S, 404, 404, 404, 200, 200),
    ("quizzes.attempt", "GET"):                   (S, 200, 404, 404, 404, 404),
    ("quizzes.attempt", "POST"):                  (S, 302, 404, 404, 404, 404),
    ("quizzes.confirm", "GET"):                   (S, 200, 404, 404, 404, 404),
    ("quizzes.confirm", "POST"):                  (S, 302, 404, 404, 404, 404),
    ("studio.delete_question", "POST"):          (S, 403, 403, 403, 302, 302),
    ("studio.edit_question", "GET"):             (S, 403, 403, 403, 200, 200),
    ("studio.edit_question", "POST"):            (S, 403, 403, 403, 400, 400),
    ("studio.export_quiz", "GET"):                    (S, 403, 403, 403, 200, 200),
    ("studio.import_gift", "GET"):               (S, 403, 403, 403, 200, 200),
    ("studio.import_gift", "POST"):              (S, 403, 403, 403, 400, 400),
    ("quizzes.mark", "POST"):                     (S, 403, 403, 403, 302, 302),
    ("quizzes.marking", "GET"):                   (S, 403, 403, 403, 200, 200),
    ("studio.move_question", "POST"):            (S, 403, 403, 403, 302, 302),
    ("studio.new_question", "GET"):              (S, 403, 403, 403, 200, 200),
    ("studio.new_question", "POST"):             (S, 403, 403, 403, 400, 400),
    ("studio.quiz_questions", "GET"):                 (S, 403, 403, 403, 200, 200),
    ("quizzes.quiz", "GET"):                      (S, 200, 200, 403, 200, 200),
    ("quizzes.result", "GET"):                    (S, 302, 404, 404, 302, 302),
    ("quizzes.results", "GET"):                   (S, 403, 403, 403, 200, 200),
    ("quizzes.save", "POST"):                     (S, 200, 404, 404, 404, 404),
    ("studio.quiz_settings", "GET"):                  (S, 403, 403, 403, 200, 200),
    ("studio.quiz_settings", "POST"):                 (S, 403, 403, 403, 302, 302),
    ("quizzes.start", "POST"):                    (S, 302, 302, 403, 302, 302),
    ("reports.attendance", "GET"):                (S, 403, 403, 403, 403, 200),
    ("reports.assignments", "GET"):               (S, 403, 403, 403, 403, 200),
    ("reports.export", "GET"):                    (S, 403, 403, 403, 403, 200),
    ("reports.index", "GET"):                     (S, 403, 403, 403, 403, 200),
    ("reports.months", "GET"):                    (S, 403, 403, 403, 403, 200),
    ("studio.add_author", "POST"):                (S, 404, 404, 404, 302, 302),
    ("studio.assignment", "GET"):                 (S, 404, 404, 404, 200, 200),
    ("studio.assignment", "POST"):                (S, 404, 404, 404, 400, 400),
    ("studio.delete_assignment", "POST"):         (S, 404, 404, 404, 302, 302),
    ("studio.move_assignment", "POST"):           (S, 404, 404, 404, 302, 302),
    ("studio.new_assignment", "GET"):             (S, 404, 404, 404, 200, 200),
    ("studio.new_assignment", "POST"):            (S, 404, 404, 404, 400, 400),
    ("studio.add_module", "POST"):                (S, 404, 404, 404, 302, 302),
    ("studio.add_quiz", "POST"):                  (S, 404, 404, 404, 302, 302),
    ("studio.course", "GET"):                     (S, 404, 404, 404, 200, 200),
    ("studio.course", "POST"):                    (S, 404, 404, 404, 400, 400),
    ("studio.course_files", "GET"):               (S, 404, 404, 404, 200, 200),
    ("studio.course_zip", "GET"):                 (S, 404, 404, 404, 200, 200),
    ("studio.course_files", "POST"):              (S, 404, 404, 404, 400, 400),
    ("studio.delete_file", "POST"):               (S, 404, 404, 404, 302, 302),
    ("studio.delete_lesson", "POST"):             (S, 404, 404, 404, 302, 302),
    ("studio.delete_module", "POST"):             (S, 404, 404, 404, 302, 302),
    ("studio.duplicate", "POST"):                 (S, 404, 404, 404, 302, 302),
    ("studio.guide", "GET"):                      (S, 403, 403, 200, 200, 200),
    ("studio.index", "GET"):                      (S, 403, 403, 200, 200, 200),
    ("studio.lesson", "GET"):                     (S, 404, 404, 404, 200, 200),
    ("studio.lesson", "POST"):                    (S, 404, 404, 404, 302, 302),
    ("studio.module", "GET"):                     (S, 404, 404, 404, 200, 200),
    ("studio.module", "POST"):                    (S, 404, 404, 404, 302, 302),
    ("studio.move_lesson", "POST"):               (S, 404, 404, 404, 302, 302),
    ("studio.move_module", "POST"):               (S, 404, 404, 404, 302, 302),
    ("studio.move_quiz", "POST"):                 (S, 404, 404, 404, 302, 302),
    ("studio.new_course", "GET"):                 (S, 403, 403, 200, 200, 200),
    ("studio.new_course", "POST"):                (S, 403, 403, 400, 400, 400),
    ("studio.new_lesson", "GET"):                 (S, 404, 404, 404, 200, 200),
    ("studio.upload_course", "GET"):              (S, 403, 403, 200, 200, 200),
    ("studio.upload_course", "POST"):             (S, 403, 403, 400, 400, 400),
    ("studio.new_lesson", "POST"):                (S, 404, 404, 404, 400, 400),
    ("studio.preview", "POST"):                   (S, 404, 404, 404, 200, 200),
    ("studio.remove_author", "POST"):             (S, 404, 404, 404, 302, 302),
    ("studio.set_status", "POST"):                (S, 404, 404, 404, 302, 302),
    ("studio.tracks", "GET"):                     (S, 403, 403, 403, 403, 200),
    ("studio.tracks", "POST"):                    (S, 403, 403, 403, 403, 400),
    # The school servers' API: a bearer secret, never a session, so every role alike.
    ("sync.api_course_files", "POST"):            (401, 401, 401, 401, 401, 401),
    ("sync.api_courses", "GET"):                  (401, 401, 401, 401, 401, 401),
    ("sync.api_join", "POST"):                    (400, 400, 400, 400, 400, 400),
    ("sync.api_mark", "GET"):                     (401, 401, 401, 401, 401, 401),
    ("sync.api_push", "POST"):                    (401, 401, 401, 401, 401, 401),
    ("sync.api_round", "POST"):                   (401, 401, 401, 401, 401, 401),
    ("sync.index", "GET"):                        (S, 403, 403, 403, 403, 200),
    ("sync.register", "POST"):                    (S, 403, 403, 403, 403, 302),
    ("sync.revoke", "POST"):                      (S, 403, 403, 403, 403, 404),
}  # fmt: skip

# Query strings some pages need to show their form.
QUERY = {"studio.new_question": "?type=single"}


def test_every_route_has_a_row(app):
    routes = set(endpoint_rules(app))
    missing = sorted(routes - set(ACCESS))
    stale = sorted(set(ACCESS) - routes)
    assert not missing, f"routes without a row in ACCESS: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def request_as(client, app, world, endpoint: str, method: str, role: str):
    rule = endpoint_rules(app)[(endpoint, method)]
    if role != "anonymous":
        client.login(world.user(role))
    url = fill_url(rule, world) + QUERY.get(endpoint, "")
    if endpoint == "quizzes.save":
        answer = {"question_id": world.ids["question_id"], "value": 0}
        return client.open(url, method=method, json=answer)
    return client.open(url, method=method, data={})


def outcome(response):
    response.close()  # file responses (PDFs, course files) hold an open file
    if response.status_code == 302 and "/sign-in" in response.headers.get("Location", ""):
        return S
    return response.status_code


GETS = sorted(key for key in ACCESS if key[1] == "GET")
POSTS = sorted(key for key in ACCESS if key[1] != "GET")


@pytest.mark.parametrize(("endpoint", "method"), GETS)
def test_access_get(app, client, world, endpoint, method):
    # Pages only read: every role against the same world in one test.
    seen = []
    for role in ROLES:
        client.logout()
        seen.append(outcome(request_as(client, app, world, endpoint, method, role)))
    assert tuple(seen) == ACCESS[(endpoint, method)], f"GET {endpoint}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "method"), POSTS)
def test_access_post(app, client, world, endpoint, method, role):
    # Actions may change the world (sign out, delete): a fresh world for every role.
    expected = ACCESS[(endpoint, method)][ROLES.index(role)]
    response = request_as(client, app, world, endpoint, method, role)
    assert outcome(response) == expected, f"{role} {method} {endpoint}"
