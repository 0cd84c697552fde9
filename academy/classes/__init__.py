"""Schools, computer rooms, programmes, classes, join codes and class CSV import."""


def init_app(app) -> None:
    # Permission rules ("class.teach", "class.manage_org") are registered on import.
    from academy.classes import access  # noqa: F401
