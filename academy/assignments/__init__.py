"""Assignments: practical tasks handed in from a phone (photos, links, text), reviewed against
a checklist by the learner's coach; a passed assignment counts toward course completion."""

from flask import Flask


def init_app(app: Flask) -> None:
    from academy.assignments import services
    from academy.core import signals

    # The course outline lists assignments beside lessons and quizzes.
    signals.outline_items.connect(services.outline_items)
