"""Interfaces the portal needs from the outside world: an HTTP transport to the services."""
