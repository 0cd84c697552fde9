"""Indexes the reports need on other features' tables (reports own no table and write nothing).

Defined here, beside the queries that use them, so the owners' models stay theirs; they are part
of the shared metadata, so create_all and the migration create them like any other index.
"""

from __future__ import annotations

from sqlalchemy import Index

from academy.progress.models import CourseProgress

# "Active learners per month" reads progress's learner_month_activity rollup (its primary key,
# month first, serves the range), so progress_events needs no index of ours.
# "Started per month": a learner has started a course at their first lesson or quiz activity
# (enrolling alone creates the course_progress row with first_activity_at empty).
ix_course_progress_first_activity_at = Index(
    "ix_course_progress_first_activity_at", CourseProgress.first_activity_at
)
