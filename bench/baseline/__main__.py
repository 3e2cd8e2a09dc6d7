"""The baseline program: `units` no-op units in one of three shapes (config `shape`).

- `mirror` (the default, the one every ratio divides by): the credentials program's graph with no work in it.
  One stack-level resource (as the stack's CredentialCheck) and per unit a component with one child resource
  that depends on it (as CommercetoolsConnector and its VaultKvSecret), plus one stack output per unit. Its
  providers are plain in state (`PlainNoop`), as ours are.
- `bare`: `units` no-op dynamic resources and nothing else: the engine's cost per dynamic resource.
- `plain`: as `bare`, with the provider not wrapped as a secret (see noop.py).

`pad` (bytes, default 0) adds a plain string input to each unit's child resource, echoed in its outputs, so a
`mirror` stack can be made as large in state as the credentials program's (the benchmark's state-size diagnostic).
"""

from __future__ import annotations

import pulumi
from noop import Noop, PlainNoop

config = pulumi.Config()
units = config.get_int("units") or 0
shape = config.get("shape") or "mirror"
pad = "x" * ((config.get_int("pad") or 0) // 2)  # inputs and outputs each hold it


class Unit(pulumi.ComponentResource):
    """Stands in for CommercetoolsConnector: a component, one child, one output."""

    def __init__(self, name: str, index: int, after: pulumi.Resource) -> None:
        super().__init__("bench:index:Unit", name, None, None)
        props: dict[str, object] = {"index": index, **({"pad": pad} if pad else {})}
        child = PlainNoop(f"{name}-secret", props, pulumi.ResourceOptions(parent=self, depends_on=[after]))
        self.config = child.id.apply(lambda id_: {"name": name, "id": id_})
        self.register_outputs({"config": self.config})


if shape == "mirror":
    check = PlainNoop("check", {"units": units})
    pulumi.export("units", {f"u{i}": Unit(f"u{i}", i, check).config for i in range(units)})
elif shape == "bare":
    for i in range(units):
        Noop(f"r{i}", {"index": i})
elif shape == "plain":
    for i in range(units):
        PlainNoop(f"r{i}", {"index": i})
else:
    raise pulumi.RunError(f"shape must be mirror, bare or plain, not {shape!r}")
