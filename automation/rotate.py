"""`python -m ctp_credentials rotate`: rotate a stack's API clients now, with no moment without a working secret.

Steps follow AWS's rotation contract (create, set, test, finish):

- managed connectors: the ApiClient provider does the steps inside one `pulumi up` that carries a rotation
  request (CTP_ROTATE); see components/providers/api_client.py;
- connectors whose credentials the user provides: `create` a client with the same scopes (admin credentials
  from the environment), test it, `set` its ID and secret in the stack's config, run `up` (the credential check
  and the store write happen there), `test` what the store now holds, and `finish` by deleting the old client.

Rerunning after a crash resumes: the new client's name is derived from the old client's ID, so it is found
again; if the stack config already holds it the rotation goes on from `up`, otherwise it is deleted (its
secret is lost) and made again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto

from ctp_credentials.components.clients.admin import AdminSource, admin_token, wait_until_usable
from ctp_credentials.components.clients.commercetools import CommercetoolsClient
from ctp_credentials.components.config import secret_config_key
from ctp_credentials.components.errors import CredentialsError
from ctp_credentials.components.location import SecretLocation

from . import inventory, steps
from .steps import ConnectorRotation
from .workspace import ProjectStack, StackError


def _get(settings: Any, key: str) -> Any:
    return settings.get(key) if isinstance(settings, dict) else None


class RotationFailed(CredentialsError):
    def __init__(self, report: list[ConnectorRotation]) -> None:
        super().__init__("rotation failed")
        self.report = report


class Rotation:
    """Rotate the chosen connectors of one stack: the engine calls, in order, around steps.py's decisions."""

    def __init__(
        self,
        stack: ProjectStack,
        connectors: list[str] | None = None,
        *,
        dry_run: bool = False,
        admin_env_prefix: str = "CTP_ADMIN",
    ) -> None:
        self.stack = stack
        self.wanted = connectors
        self.dry_run = dry_run
        self.admin_env_prefix = admin_env_prefix

    def run(self) -> list[ConnectorRotation]:
        found = inventory.connectors(self.stack.export(), self.stack.outputs())
        # The stack program's config also names connectors not deployed yet; only there does a provided connector
        # read its credentials from stack config, where `rotate` can set new ones (another program's come from
        # its own inputs).
        settings = steps.connectors(self.stack.config(), self.stack.name, required=False)
        modes = {n: c.mode for n, c in found.items()}
        # the stack program's config is its intent (a connector switched to managed, not yet deployed): it wins
        modes |= {n: "managed" if _get(s, "managed") is not None else "provided" for n, s in settings.items()}
        if not modes:
            raise StackError(
                f"stack {self.stack.name!r} has no connectors: none in its state (run `pulumi up` first) and no "
                "`connectors` in its config"
            )
        managed, provided = steps.select(modes, self.wanted, self.stack.name)
        report = [ConnectorRotation(n, "managed") for n in managed]
        report += [ConnectorRotation(n, "provided") for n in provided]
        if managed:
            # the state just read holds the documents before the rotation: not exported a second time
            self._managed(report[: len(managed)], {n: dict(c.document) for n, c in found.items() if c.document})
        for r in report[len(managed) :]:
            if r.connector not in settings:
                r.error = (
                    f"connector {r.connector!r} uses credentials your program passes in (client_id, client_secret), "
                    "which rotate cannot change: create a new client, update those inputs and run `pulumi up`; or "
                    "let this project make and rotate the client (managed=ManagedClient(...))"
                )
                continue
            if self.dry_run:
                r.notes.append("would create a client with the same scopes, set it, run up, delete the old")
                continue
            self._provided(settings[r.connector], r)
        if any(r.error for r in report):
            raise RotationFailed(report)
        return report

    # --- managed: one `up` with a rotation request ------------------------------------------------------------
    def _managed(self, reports: list[ConnectorRotation], before: dict[str, dict[str, Any]]) -> None:
        names = [r.connector for r in reports]
        stack = self.stack.with_env({"CTP_ROTATE": steps.rotation_request(names, datetime.now(UTC))})
        try:
            if self.dry_run:
                ops: dict[str, set[str]] = {}

                def record(event: auto.EngineEvent) -> None:
                    found = steps.client_op(event)
                    if found is not None:
                        ops.setdefault(found[0], set()).add(found[1])

                stack.stack.preview(on_event=record)
                for r in reports:
                    r.old_client_id = before.get(r.connector, {}).get("clientId")
                    r.notes.append(steps.dry_run_note(ops.get(r.connector, set())))
                return
            stack.stack.up()
        except Exception as exc:
            steps.up_failed(names, exc, {r.connector: r for r in reports})
            return
        after = inventory.connectors(self.stack.export(), self.stack.outputs())
        locations = {n: c.location for n, c in after.items()}
        steps.verify_all(reports, locations, before, {n: dict(c.document) for n, c in after.items() if c.document})

    # --- provided: create, set, up, test, finish ----------------------------------------------------------
    def _provided(self, settings: dict[str, Any], r: ConnectorRotation) -> None:
        name = r.connector
        c = steps.connector_config(name, settings)
        if isinstance(c, str):
            r.error = f"step pending failed: {c}. Nothing changed; fix the stack's config, then rerun"
            return
        pk, scopes = c.project_key, [str(s) for s in c.scopes]
        ct = CommercetoolsClient(c.token_url_base, c.api_base)
        r.old_client_id = str(settings["clientId"])
        try:
            admin = admin_token(ct, pk, AdminSource(env_prefix=self.admin_env_prefix))
            r.step = "create"
            new_id, secret, r.old_client_id = steps.new_client(
                ct,
                admin,
                pk,
                steps.client_name(self.stack.name, name, ""),
                scopes,
                r.old_client_id,
                lambda: self.stack.secret_config(secret_config_key(name)),
            )
            r.new_client_id = new_id
            if secret is not None:  # a fresh client: test it, then put it in the stack's config
                r.step = "test"
                try:
                    wait_until_usable(ct, new_id, secret, scopes, token_key=c.token_key)
                except CredentialsError:
                    ct.delete_api_client(admin, pk, new_id)  # roll back: nothing refers to it yet
                    r.step = "create"
                    raise
                r.step = "set"
                # Secret first: a run stopped between the two leaves the old ID, which the rerun rotates
                # again. The other order could leave the new ID with the old secret, a pair nothing fixes.
                self.stack.set_config(secret_config_key(name), secret, secret=True)
                self.stack.set_config(f"connectors.{name}.clientId", new_id, path=True)
            else:
                r.notes.append(f"resumed the rotation from {r.old_client_id}: its new client was already in config")
            r.step = "up"
            self.stack.stack.up()
            r.step = "test"
            held = steps.verify_stored(self._documents()[name], SecretLocation.of(c))
            r.verified = held == new_id
            if not r.verified:  # never delete the old client while the store still hands it out
                raise CredentialsError(f"the store holds client {held}, not the new client {new_id}")
            r.step = "finish"
            if r.old_client_id != new_id:
                ct.delete_api_client(admin, pk, r.old_client_id)
            r.step = "done"
        except (CredentialsError, StackError) as exc:
            r.error = f"step {r.step} failed: {exc}. {steps.advice(r.step)}"
        except Exception as exc:
            r.error = f"step {r.step} failed: {steps.summary(exc)}. {steps.advice(r.step)}"

    def _documents(self) -> dict[str, dict[str, Any]]:
        try:
            found = inventory.connectors(self.stack.export(), self.stack.outputs())
        except (StackError, auto.errors.CommandError):  # no state yet: nothing to compare with
            return {}
        return {n: dict(c.document) for n, c in found.items() if c.document is not None}
