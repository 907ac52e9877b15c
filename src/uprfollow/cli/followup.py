"""Commands registered on the shared app (filled in by its issue)."""

from ._app import app  # noqa: F401
