"""Who a stored value belongs to, and whether this resource may write it: one rule for every writer.

Every value this project writes carries a claim: Vault KV v2 custom_metadata and Secrets Manager and SSM tags
`managed-by`, `pulumi-stack`, `connector`, `writer`; a published file a `_publishedBy` marker (tool, stack,
writer) beside the document's `name`. `writer` is the writing resource's ID: on a replacement the new resource
claims the value first, so the old one's delete sees it is no longer the writer and leaves the value alone.

The rule (`decide`): a value is ours to write when this very resource wrote it (a renamed stack or connector
still owns its value), or when this stack's connector did (a replacement, a rerun after a crash); a value that
claims no owner at all may be adopted where the store allows it and the connector asks to; anything else
(another stack's, another connector's, another tool's) is refused and left untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

MANAGED_BY = "ctp-credentials"
# The claim's keys, as tags and Vault metadata name them.
MANAGED, STACK, CONNECTOR, WRITER = "managed-by", "pulumi-stack", "connector", "writer"
KEYS = (MANAGED, STACK, CONNECTOR, WRITER)


class Verdict(Enum):
    WRITER = "this resource wrote it"
    OURS = "this stack's connector wrote it"
    ADOPTED = "nobody claims it, and the connector adopts it"
    UNCLAIMED = "nobody claims it"
    OTHER_TOOL = "another tool claims it"
    OTHER_OWNER = "another stack or connector of this tool claims it"

    @property
    def allowed(self) -> bool:
        return self in (Verdict.WRITER, Verdict.OURS, Verdict.ADOPTED)


@dataclass(frozen=True)
class Claim:
    """What a stored value says about its owner."""

    tool: str | None = None  # `managed-by`: MANAGED_BY when this project wrote it
    stack: str | None = None  # "<project>/<stack>"
    connector: str | None = None
    writer: str | None = None  # the writing resource's ID

    @classmethod
    def of(cls, tags: Mapping[str, str]) -> Claim:
        """From tags or Vault custom_metadata."""
        return cls(tags.get(MANAGED), tags.get(STACK), tags.get(CONNECTOR), tags.get(WRITER))

    @property
    def ours(self) -> bool:
        """Written by this project (by whichever stack)."""
        return self.tool == MANAGED_BY

    def written_by(self, writer: str) -> bool:
        """This resource wrote it, so its delete may remove it."""
        return self.ours and self.writer == writer

    @property
    def owner(self) -> str:
        """The owner as messages name it."""
        return f"{self.stack}/{self.connector}" if self.ours else "another tool"


def tags(owner: str, connector: str, writer: str) -> dict[str, str]:
    """The claim a writer records (tags, Vault custom_metadata)."""
    return {MANAGED: MANAGED_BY, STACK: owner, CONNECTOR: connector, WRITER: writer}


def decide(claim: Claim, *, owner: str, connector: str, writer: str | None = None, adopt: bool = False) -> Verdict:
    """May `connector` of stack `owner` (as resource `writer`, None on a create) write a value carrying `claim`?"""
    if claim.ours and writer is not None and claim.writer == writer:
        return Verdict.WRITER
    if claim.ours and claim.stack == owner and claim.connector == connector:
        return Verdict.OURS
    if claim.ours:
        return Verdict.OTHER_OWNER
    if claim.tool:
        return Verdict.OTHER_TOOL
    return Verdict.ADOPTED if adopt else Verdict.UNCLAIMED


def refusal(where: str, claim: Claim, *, owner: str, connector: str, choose: str, note: str = "", who: str = "") -> str:
    """The message of a refused write: `{where} already exists{note} and {who}, not to connector ... of ...; it is
    left untouched. Choose another {choose}`. `who` defaults to `belongs to <stack>/<connector>` or `belongs to
    another tool`."""
    return (
        f"{where} already exists{note} and {who or f'belongs to {claim.owner}'}, not to connector {connector!r} of "
        f"{owner}; it is left untouched. Choose another {choose}"
    )
