"""A commercetools emulator (auth host + API Clients API) for tests and the demo, shaped like a moto backend.

`CommercetoolsEmulator` serves; `CommercetoolsBackend` holds the state; `Fault` describes injected failures.
"""

from .faults import Fault
from .models import ApiClientRecord, CommercetoolsBackend, TokenRecord
from .requestlog import RequestLogEntry
from .server import CommercetoolsEmulator

__all__ = [
    "ApiClientRecord",
    "CommercetoolsBackend",
    "CommercetoolsEmulator",
    "Fault",
    "RequestLogEntry",
    "TokenRecord",
]
