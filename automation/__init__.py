"""Driving the Pulumi engine: the pinned CLI, offline environments, and (later) the rotate/status commands."""
