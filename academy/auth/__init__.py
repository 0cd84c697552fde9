"""People, roles, sign-in and accounts."""
