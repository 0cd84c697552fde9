"""Certificates: issued once on course completion, a Thai PDF, public verification."""
