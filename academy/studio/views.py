"""The studio's pages: the course workshop (course_views), the quiz editor (quiz_views) and
the assignment editor (assignment_views), all on the one `studio` blueprint."""

from academy.studio import assignment_views, course_views, quiz_views, zip_views  # noqa: F401
from academy.studio.blueprint import bp

__all__ = ["bp"]
