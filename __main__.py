"""The stack program: one CommercetoolsConnector per connector of the stack config, their documents exported.

The thinnest consumer of the library (ctp_credentials): config is read and validated once, with messages that
name the stack config keys; the components do the rest (credential check, stores, rotation, publishing).
"""

import warnings

import pulumi

from ctp_credentials import CommercetoolsConnector, ConnectorArgs
from ctp_credentials.components.config import ConfigWarning, load_stack_config
from ctp_credentials.components.errors import ConfigError
from ctp_credentials.components.pulumi_config import config_bytes, lookup_secret, read_connectors


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

    documents = {}
    for c in config.connectors:
        documents[c.name] = CommercetoolsConnector(c.name, ConnectorArgs.from_config(c)).config
    pulumi.export("connectors", documents)


main()
