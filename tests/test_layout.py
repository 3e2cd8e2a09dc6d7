"""One import root: every module of the project is imported as `ctp_credentials.*`, wherever it runs, and state
written before there was one (when the providers were pickled as `components.*`) still loads."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from ctp_credentials.automation.engine import ROOT

FOLDERS = {"components", "policies", "automation", "testservers"}  # reached as ctp_credentials.<name>
NOT_OURS = {".venv", "mutants", ".demo", ".tools", "ctp_credentials", "work"}  # ctp_credentials/ holds links
# serialize_provider(...) of each provider at 413c476, the last commit before the import root: what the pickled
# `__provider` of every dynamic resource in a stack written then holds (state keeps it until the resource changes)
OLD_PICKLES = {
    "VaultKvSecretProvider": (
        "gASVQgAAAAAAAACMIWNvbXBvbmVudHMucHJvdmlkZXJzLnZhdWx0X3NlY3JldJSMFVZhdWx0S3ZTZWNyZXRQcm92aWRlcpSTlCmBlC4="
    ),
    "SecretsManagerSecretProvider": (
        "gASVUgAAAAAAAACMKmNvbXBvbmVudHMucHJvdmlkZXJzLnNlY3JldHNtYW5h"
        "Z2VyX3NlY3JldJSMHFNlY3JldHNNYW5hZ2VyU2VjcmV0UHJvdmlkZXKUk5QpgZQu"
    ),
    "ApiClientProvider": (
        "gASVPAAAAAAAAACMH2NvbXBvbmVudHMucHJvdmlkZXJzLmFwaV9jbGllbnSUjBFBcGlDbGllbnRQcm92aWRlcpSTlCmBlC4="
    ),
    "CredentialCheckProvider": (
        "gASVSAAAAAAAAACMJWNvbXBvbmVudHMucHJvdmlkZXJzLmNyZWRlbnRpYWxf"
        "Y2hlY2uUjBdDcmVkZW50aWFsQ2hlY2tQcm92aWRlcpSTlCmBlC4="
    ),
    "FilePublicationProvider": (
        "gASVRAAAAAAAAACMIWNvbXBvbmVudHMucHJvdmlkZXJzLnB1YmxpY2F0aW9uc5SMF0ZpbGVQdWJsaWNhdGlvblByb3ZpZGVylJOUKYGULg=="
    ),
    "SsmParameterPublicationProvider": (
        "gASVTAAAAAAAAACMIWNvbXBvbmVudHMucHJvdmlkZXJzLnB1YmxpY2F0aW9u"
        "c5SMH1NzbVBhcmFtZXRlclB1YmxpY2F0aW9uUHJvdmlkZXKUk5QpgZQu"
    ),
    "WebhookPublicationProvider": (
        "gASVRwAAAAAAAACMIWNvbXBvbmVudHMucHJvdmlkZXJzLnB1YmxpY2F0aW9u"
        "c5SMGldlYmhvb2tQdWJsaWNhdGlvblByb3ZpZGVylJOUKYGULg=="
    ),
}


def test_nothing_imports_the_folders_by_their_own_names() -> None:
    """Imported as `components.x` and as `ctp_credentials.components.x`, a file would be two modules (two copies
    of every class and cache) and its providers would be pickled under two names."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        folders = path.relative_to(ROOT).parts[:-1]
        if NOT_OURS & set(folders) or any(f.startswith(".venv") for f in folders):
            continue
        if folders[:2] == ("examples", "own-program"):  # a user's program: its `components` is its own package
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names if n.split(".")[0] in FOLDERS]
    assert found == []


PROBE = """
import base64, importlib, json, sys, threading
import dill
from pulumi.dynamic.dynamic import serialize_provider
pickles = json.loads(sys.argv[1])
loaded = {}
def load(name, pickled):  # as the SDK's dynamic provider server does, on one thread per resource
    loaded[name] = dill.loads(base64.b64decode(pickled))
threads = [threading.Thread(target=load, args=item) for item in pickles.items()]
for t in threads: t.start()
for t in threads: t.join()
out = {}
for name, provider in loaded.items():
    module = type(provider).__module__
    out[name] = [module, type(provider) is getattr(importlib.import_module(module), name),
                 base64.b64decode(serialize_provider(provider)).count(b"ctp_credentials.components.providers.")]
twice = [m for m in sys.modules
         if m.startswith("components.") and sys.modules[m] is not sys.modules.get("ctp_credentials." + m)]
# the modules handed out under the old names keep their own spec (relative imports and resources read it)
respecced = [m for m, mod in list(sys.modules.items())
             if m.startswith("ctp_credentials.") and getattr(mod, "__spec__", None) and mod.__spec__.name != m]
print(json.dumps({"providers": out, "loaded_twice": twice, "respecced": respecced}))
"""


def test_state_written_before_the_import_root_still_loads_as_the_one_module() -> None:
    """A refresh or destroy of such a resource unpickles its old `__provider` (the engine keeps an unchanged
    resource's outputs as they were): from the checkout, `components.*` hands out the `ctp_credentials` modules,
    and the provider written back is pickled under the one name. Run as the provider server runs: a fresh
    interpreter whose path starts with the program's directory."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(OLD_PICKLES)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout)
    assert len(result["providers"]) == len(OLD_PICKLES)  # every thread loaded its provider
    assert result["loaded_twice"] == [] and result["respecced"] == []
    for name, (module, same_class, new_name) in result["providers"].items():
        assert module.startswith("ctp_credentials.components.providers.") and same_class and new_name == 1, name
