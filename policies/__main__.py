"""Assembles the pack; run by `pulumi preview --policy-pack policies` (the analyzer runs this directory).

The analyzer puts this directory on sys.path; the rules are imported as `ctp_credentials.policies.*` from the
directory above instead (the import root, ctp_credentials/, is there), so the pack uses the same scope catalogue
and region list as the program, under the same module names.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # no module here shadows another
# The folder that holds the import root: the checkout (policies/ is beside ctp_credentials/), or site-packages in
# an installed copy (policies/ is inside it); never ctp_credentials/ itself, which would expose its subpackages as
# top-level names.
sys.path.insert(0, str(next(p for p in (HERE.parent, HERE.parent.parent) if (p / "ctp_credentials").is_dir())))

from pulumi_policy import PolicyPack  # noqa: E402

from ctp_credentials.policies.pack import NAME, POLICIES  # noqa: E402

PolicyPack(name=NAME, policies=POLICIES)
