"""Database backends: Django's own, with the project's failure behaviour (see postgresql)."""
