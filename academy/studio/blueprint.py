"""The studio's one blueprint: course pages under /studio/..., the quiz editor under
/quizzes/<id>/... (the addresses instructors already have bookmarked)."""

from flask import Blueprint

bp = Blueprint("studio", __name__, template_folder="templates")
