"""Pulumi components that provision commercetools API credentials into secret stores."""

from .connector import CommercetoolsConnector, ConnectorArgs

__all__ = ["CommercetoolsConnector", "ConnectorArgs"]
