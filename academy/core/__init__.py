"""What every feature shares, and nothing feature-specific. core imports no feature."""

__version__ = "0.1.0"
