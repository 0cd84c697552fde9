"""The classes pages, by audience: teaching_views (instructors), join_views (learners),
org_views (admins), all on the one `classes` blueprint."""

from academy.classes import join_views, org_views, teaching_views  # noqa: F401 - their routes
from academy.classes.blueprint import bp

__all__ = ["bp"]
