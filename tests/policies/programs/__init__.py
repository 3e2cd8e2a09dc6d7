"""Pulumi programs the engine tests run instead of the project's `__main__.py` (copied in as `__main__.py`)."""
