"""Schools, computer rooms, programmes, classes, join codes and class CSV import."""
