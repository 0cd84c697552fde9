"""The studio's pages: the course workshop (course_views) and the quiz editor (quiz_views),
both on the one `studio` blueprint."""

from academy.studio import course_views, quiz_views, zip_views  # noqa: F401 - their routes
from academy.studio.blueprint import bp

__all__ = ["bp"]
