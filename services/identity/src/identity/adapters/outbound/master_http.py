"""The criteria master as the judgement service publishes it (``GET /trades``, public).

Used by the admin command line only, to resolve a staff account's 分野 (no service imports
another: the master is read over HTTP).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from identity.core.binding import MasterTrade, parse_master


class MasterUnavailable(Exception):
    """The master could not be read (service down, error status, not a list of 分野)."""


def fetch_trades(base_url: str, timeout: float) -> list[MasterTrade]:
    url = base_url.rstrip("/") + "/trades"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
        return parse_master(answer)
    except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise MasterUnavailable(f"{url}: {type(exc).__name__}") from None
