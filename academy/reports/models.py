"""Indexes the reports need on other features' tables (reports own no table and write nothing).

Defined here, beside the queries that use them, so the owners' models stay theirs; they are part
of the shared metadata, so create_all and the migration create them like any other index.
"""

from __future__ import annotations

from sqlalchemy import Index

from academy.progress.models import CourseProgress, ProgressEvent

# "Active learners per month": the range scan on `at` reads user_id from the index itself
# (index-only scan on PostgreSQL, covering index on SQLite), never the 10 million table rows.
ix_progress_events_at_user = Index(
    "ix_progress_events_at_user", ProgressEvent.at, ProgressEvent.user_id
)
# "Started per month".
ix_course_progress_started_at = Index("ix_course_progress_started_at", CourseProgress.started_at)
