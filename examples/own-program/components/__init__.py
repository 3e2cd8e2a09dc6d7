"""This program's own components (a package named `components`, as many Pulumi repositories have one)."""
