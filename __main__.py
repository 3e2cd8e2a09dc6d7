"""Wiring only: load validated config once, build one component per connector, export their documents."""

import dataclasses
import warnings

import pulumi

from ctp_credentials.components.config import ConfigWarning, load_stack_config
from ctp_credentials.components.connector import CommercetoolsConnector, ConnectorArgs
from ctp_credentials.components.errors import ConfigError
from ctp_credentials.components.providers.credential_check import CredentialCheck, CredentialCheckArgs
from ctp_credentials.components.pulumi_config import config_bytes, lookup_secret, read_connectors, rotation_request


def main() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ConfigWarning)
        try:
            config = load_stack_config(read_connectors(), lookup_secret, config_bytes=config_bytes())
        except ConfigError as exc:
            # RunError: Pulumi prints the message alone, without a Python traceback.
            raise pulumi.RunError(str(exc)) from None
    for w in seen:
        pulumi.log.warn(str(w.message))

    requested = rotation_request([c.name for c in config.connectors])
    connectors = [ConnectorArgs.from_config(c, requested.get(c.name, "")) for c in config.connectors]
    for args in connectors:
        if args.config.managed is None and not args.config.check_credentials:
            # Every run, not only preview: the check is what stops a wrong secret from being stored.
            name = args.config.name
            pulumi.log.warn(
                f"connector '{name}': the credential check is off (connectors.{name}.checkCredentials: false): "
                "its credentials are stored without a token request proving they work; remove the setting to "
                "check them"
            )
        if args.config.managed is not None and pulumi.runtime.is_dry_run():
            pulumi.log.info(
                f"connector {args.config.name!r} is managed: its API client is created (or rotated) and its "
                "credentials are checked during `pulumi up`, before anything is written to the store"
            )
    # One check for all user-provided credentials: their token requests run concurrently during preview.
    check = CredentialCheck(
        "credential-check",
        CredentialCheckArgs({a.config.name: a.check_inputs() for a in connectors if a.config.managed is None}),
    )
    documents = {}
    for args in connectors:
        component = CommercetoolsConnector(args.config.name, dataclasses.replace(args, after=[check]))
        documents[args.config.name] = component.config
    pulumi.export("connectors", documents)


main()
