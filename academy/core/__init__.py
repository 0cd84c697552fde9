"""What every feature shares, and nothing feature-specific. core imports no feature."""
