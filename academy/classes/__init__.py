"""Schools, computer rooms, programmes, classes, join codes and class CSV import."""


def init_app(app) -> None:
    # Permission rules ("class.teach", "class.manage_org") are registered on import.
    from academy.classes import access
    from academy.core import signals

    # Instructors manage (list, reset passwords of) the learners of the classes they teach.
    signals.learner_scope.connect(access.learner_ids_taught_by)
