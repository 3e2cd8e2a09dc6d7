"""`python -m ctp_credentials pr-summary`: one real preview of a stack, summarised for a pull request comment.

The preview runs through the Automation API with the policy pack (`Stack.preview(policy_packs=...,
policy_pack_configs=...)`, which SDK 3.79 passes to the CLI as `--policy-pack`/`--policy-pack-config`). The
summary is built from its engine events only:

- steps (`resourcePreEvent`): each resource's op; a connector's resources are the children of its
  `CommercetoolsConnector` component (`<connector>-secret`, `<connector>-client`, publications) and its entry in
  the stack's `credential-check`. What changed is computed from a step's old and new inputs: 3.79's dynamic
  providers report no changed keys (`diffs` stays empty) and the 3.79 SDK reads `detailed_diff` under a key
  the engine never writes, so neither can be relied on (both are used when present);
- diagnostics: errors and warnings, given to the connector they name ("connector 'patchworks' (project ...");
- policy events: the 3.79 SDK reads their resource URN under a key the engine never writes (`resource_urn`, the
  engine sends `resourceUrn`), so a violation goes to the connector its message names;
- the prelude's stack config and the component's previous document (its `config` output) fill in what a
  failed preview never got to (a failed credential check stops it before the store resources are registered).

Secrets: the engine blinds every value Pulumi marks secret; on top of that every string equal to a secret
config value of the stack is replaced by `[secret]` wherever it appears (a secret pasted into a plaintext
field, a message quoting it). Output is deterministic: sorted, no timestamps, resource IDs or temporary paths,
and loopback URLs (local emulators, proxies) lose their port.

The modules, in the order the data flows:

- events.py: reading the preview's engine events (steps, the prelude's config, diagnostics, policy events);
- build.py: from those events to the summary, one row per connector (`summarise`);
- model.py: the summary's data (`Summary`, `ConnectorSummary`, ...);
- markdown.py: the pull request comment (`render_markdown`, `verdict`), cut to MAX_CHARS;
- json_report.py: the `--json` contract (`as_json`);
- preview.py: the command: the preview through the Automation API, and where its output goes (`command`).

What the rest of the project uses (the command, the summary and its renderings) is importable from here.
"""

from .build import summarise
from .events import CONFIG_KEY, SECRET_SIG
from .json_report import as_json
from .markdown import MARKER, MAX_CHARS, render_markdown
from .model import Change, ConnectorSummary, ResourceChange, Summary, Violation
from .preview import command

__all__ = [
    "CONFIG_KEY",
    "MARKER",
    "MAX_CHARS",
    "SECRET_SIG",
    "Change",
    "ConnectorSummary",
    "ResourceChange",
    "Summary",
    "Violation",
    "as_json",
    "command",
    "render_markdown",
    "summarise",
]
