"""Event envelope and catalogue."""

from shared_kernel.events.catalogue import *  # noqa: F403
from shared_kernel.events.catalogue import CATALOGUE
from shared_kernel.events.envelope import Catalogue, Envelope, Event, MalformedEvent

__all__ = ["CATALOGUE", "Catalogue", "Envelope", "Event", "MalformedEvent"]
