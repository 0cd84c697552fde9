"""Quizzes: taking them (attempts, answers saved as given, submit once), grading, marking
essays, and the question types and GIFT format they are written in."""

from flask import Flask


def init_app(app: Flask) -> None:
    from academy.core import signals
    from academy.quizzes import services

    # The course outline lists the quizzes beside the lessons (courses cannot import quizzes).
    signals.outline_items.connect(services.outline_items)
