"""Schools, computer rooms, programmes, classes, join codes and class CSV import."""


def init_app(app) -> None:
    # Permission rules ("class.teach", "class.manage_org") are registered on import.
    from academy.auth.services import register_learner_scope
    from academy.classes import access

    # Instructors manage (list, reset passwords of) the learners of the classes they teach.
    register_learner_scope(access.learner_ids_taught_by)
