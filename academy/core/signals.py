"""How a lower feature tells a higher one that something happened, without importing it.

Senders pass the learner (a User) as the sender and the objects as keyword arguments.
Receivers run inside the sender's transaction: they add to `db.session` and never commit; the
request commits once, so the event and everything it causes are saved together or not at all.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# courses -> progress: a learner opened a lesson (seconds: time spent on the previous visit, or
# None) and a learner marked a lesson done.
lesson_viewed = _signals.signal("lesson-viewed")  # sender=user, lesson=Lesson, seconds=int|None
lesson_done = _signals.signal("lesson-done")  # sender=user, lesson=Lesson

# quizzes -> progress: an attempt was submitted and graded (also when time ran out, and again
# when an instructor marks an essay and the attempt's score changes).
attempt_graded = _signals.signal("attempt-graded")  # sender=user, attempt=Attempt, quiz=Quiz

# assignments -> progress: a reviewer passed a submission or asked for changes.
assignment_reviewed = _signals.signal(
    "assignment-reviewed"
)  # sender=user (the learner), assignment=Assignment, submission=Submission, review=Review

# progress -> certificates: the moment the last requirement of a course is met.
course_completed = _signals.signal(
    "course-completed"
)  # sender=user, course=Course, score=float|None

# courses/classes -> progress: a learner was enrolled in a course (by themselves or a class).
enrolled = _signals.signal("enrolled")  # sender=user, course=Course

# courses <- quizzes (a question, not an event): the course outline asks which other items sit
# in a course's modules beside its lessons. Each receiver returns a list of
# (module_id, position, kind, id, key, obj); the quizzes feature answers with the quizzes.
outline_items = _signals.signal("outline-items")  # sender=Course

# auth <- classes (a question): which learners does this instructor look after? Each receiver
# returns a SELECT of user ids (the classes feature: the members of the classes they teach).
learner_scope = _signals.signal("learner-scope")  # sender=instructor (User)

# Questions the shell and main ask every feature (as Indico's modules fill its menus):
# nav_items: the header menu; each receiver returns a list of core.web.NavEntry.
nav_items = _signals.signal("nav-items")  # sender=None
# role_home: where this person works; a receiver returns an endpoint name, or None.
role_home = _signals.signal("role-home")  # sender=user
# learner_state: what a learner has done in a course (core.learning.LearnerCourseState), for
# the outline and lesson page below progress; the progress feature answers.
learner_state = _signals.signal("learner-state")  # sender=user, course=Course
# is_learning: is this person (an admin, say) enrolled in anything? The courses feature answers.
is_learning = _signals.signal("is-learning")  # sender=user

# auth <- sync (a question): does another server own this account (it was made on a school
# server and is kept here as a copy)? A receiver returns that server's name, or None; auth then
# refuses to change the copy, naming the owner, instead of letting the owner overwrite it.
account_owner = _signals.signal("account-owner")  # sender=user
# auth <- sync (a question): that owner, asked to make a change to the account instead
# (auth.services.ask_owner: "password" with the temporary password's hash, "active", "role").
# A receiver that queues it for the owner's next round returns the owner's name, else None.
account_change = _signals.signal("account-change")  # sender=user, change=, values=, by=

# core <- periods (a question): the learner's pages (dashboard, course, lesson) ask what notices
# to show above their content. Each receiver returns markup or None; the periods feature answers
# with "Your class is on: ...".
page_banners = _signals.signal("page-banners")  # sender=user

# quizzes <- periods (a question): may this learner start this quiz, which opens only during a
# period of their class, now? A receiver returns core.learning.QuizGate, or None when it has no
# word on it; `code` is the learner's try at the start code (None: the page only looks).
quiz_gate = _signals.signal("quiz-gate")  # sender=user, quiz=Quiz, now=datetime, code=str|None
# progress <- coaching (a question): the learner's dashboard asks which sections to add below
# their courses. Each receiver returns markup or None; coaching answers with the milestone path.
dashboard_sections = _signals.signal("dashboard-sections")  # sender=user

# core <- sync (a question): where do people reach this server's printed links (certificates,
# class posters, sign-in cards) when PUBLIC_BASE_URL is not set? A receiver returns an address
# or None; a joined school server answers with its city's, where its certificates verify once a
# round has carried them there.
public_address = _signals.signal("public-address")  # sender=None
