"""Home, language switch, health check and error pages."""
