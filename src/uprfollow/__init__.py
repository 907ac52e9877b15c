"""uprfollow: follow up UN Universal Periodic Review recommendations from a local SQLite store."""

__version__ = "0.1.0"
