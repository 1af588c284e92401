"""Adapters: inbound (HTTP, events) call the core; outbound implement the ports."""
