"""Inbound adapters: HTTP routes and event handlers."""
