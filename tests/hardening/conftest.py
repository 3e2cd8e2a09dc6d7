"""The end-to-end fixtures (a copy of the program on a temporary file backend) serve these tests too."""

from tests.e2e.conftest import aws_project, project

__all__ = ["aws_project", "project"]
