"""Courses, modules and lessons: the catalogue, the lesson reader, the studio and the
courses/ folder loader."""
