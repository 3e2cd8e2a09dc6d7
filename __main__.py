"""Wiring only: load validated config once, build one component per connector, export their documents."""

import dataclasses
import warnings

import pulumi

from components.config import ConfigWarning, load_stack_config
from components.connector import CommercetoolsConnector, ConnectorArgs
from components.errors import ConfigError
from components.providers.credential_check import CredentialCheck, CredentialCheckArgs
from components.pulumi_config import lookup_secret, read_connectors


def main() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ConfigWarning)
        try:
            config = load_stack_config(read_connectors(), lookup_secret)
        except ConfigError as exc:
            # RunError: Pulumi prints the message alone, without a Python traceback.
            raise pulumi.RunError(str(exc)) from None
    for w in seen:
        pulumi.log.warn(str(w.message))

    connectors = [ConnectorArgs.from_config(c) for c in config.connectors]
    # One check for all connectors: their token requests run concurrently during preview.
    check = CredentialCheck(
        "credential-check", CredentialCheckArgs({a.config.name: a.check_inputs() for a in connectors})
    )
    documents = {}
    for args in connectors:
        component = CommercetoolsConnector(args.config.name, dataclasses.replace(args, after=[check]))
        documents[args.config.name] = component.config
    pulumi.export("connectors", documents)


main()
