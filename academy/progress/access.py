"""Who may look at a class's progress: the "class.teach" rule of the classes feature (the
class's instructors, and admins), registered when academy.classes.access is imported."""

from academy.classes import access as _classes_access  # noqa: F401
