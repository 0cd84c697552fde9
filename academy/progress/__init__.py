"""Lesson and quiz progress, course completion (the course_completed signal), the learner
dashboard and the class gradebook."""
