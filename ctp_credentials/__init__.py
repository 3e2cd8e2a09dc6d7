"""ctp-credentials: the one import root of this project.

Its subpackages are the repository's top-level folders, reached through the symlinks here
(`ctp_credentials.components` is `components/`, `.policies` is `policies/`, `.automation` is `automation/`,
`.testing` is `testservers/`), so every module has one import name wherever it runs: the stack program, the
dynamic providers' pickles in state, the policy pack and the tests. Nothing imports the folders by their own
names (tests/test_layout.py).
"""

__version__ = "0.1.0"
