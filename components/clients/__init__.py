"""One small client per external system: commercetools (and its admin operations), Vault, AWS Secrets Manager,
AWS SSM Parameter Store and webhook receivers. Providers and commands reach the systems only through these.

Imports nothing, like the package above it (see components/__init__.py).
"""
