"""Indexes the reports need on other features' tables (reports own no table and write nothing).

Defined here, beside the queries that use them, so the owners' models stay theirs; they are part
of the shared metadata, so create_all and the migration create them like any other index.
"""

from __future__ import annotations

from sqlalchemy import Index

from academy.progress.models import CourseProgress, ProgressEvent

# "Active learners per month": the range scan on `at` reads user_id and kind from the index
# itself (index-only scan on PostgreSQL, covering index on SQLite), never the table rows.
ix_progress_events_at_user = Index(
    "ix_progress_events_at_user", ProgressEvent.at, ProgressEvent.user_id, ProgressEvent.kind
)
# "Started per month": a learner has started a course at their first lesson or quiz activity
# (enrolling alone creates the course_progress row with first_activity_at empty).
ix_course_progress_first_activity_at = Index(
    "ix_course_progress_first_activity_at", CourseProgress.first_activity_at
)
