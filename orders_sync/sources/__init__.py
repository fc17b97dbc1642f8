"""HTTP clients of the TD and UC CRM APIs (``shared/contracts/source-api.md``), their
typed rows and errors, and the bundled CRM simulator (:mod:`.simulator`).

Build clients with :mod:`orders_sync.sources.factory`; import the simulator from
:mod:`devtools.simulator` (it is not imported here).
"""

from __future__ import annotations

from orders_sync.sources.errors import (
    PageContext,
    SourceAuthError,
    SourceBadRequestError,
    SourceDataError,
    SourceError,
    SourceNotFoundError,
    SourceRetriesExhaustedError,
)
from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient

__all__ = [
    "PageContext",
    "SourceAuthError",
    "SourceBadRequestError",
    "SourceDataError",
    "SourceError",
    "SourceNotFoundError",
    "SourceRetriesExhaustedError",
    "TdClient",
    "TdOrder",
    "TdSale",
    "UcClient",
    "UcGstLine",
]
