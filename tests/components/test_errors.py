"""One exception tree: every exception class the project defines derives from CredentialsError, so a caller
(a pipeline, the commands) can tell the project's failures, with their messages, from bugs."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import ctp_credentials
from ctp_credentials.components.errors import CredentialsError

# The test servers stand in for outside systems: their errors are the emulator's, not the project's.
NOT_OURS = ("ctp_credentials.testing",)


def test_every_exception_of_the_project_is_a_credentials_error() -> None:
    found = []
    for info in pkgutil.walk_packages(ctp_credentials.__path__, "ctp_credentials."):
        if info.name.startswith(NOT_OURS) or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Exception) and not issubclass(cls, Warning) and cls.__module__ == module.__name__:
                found.append(cls)
    assert len(found) >= 15  # the walk reached the modules that define them
    assert [c.__qualname__ for c in found if not issubclass(c, CredentialsError)] == []
