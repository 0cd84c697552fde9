"""Read-only reports for instructors and admins; writes nothing."""
