"""Shared kernel of 能力評価システム.

One way to do each cross-cutting thing: settings, logging, the event envelope and
catalogue, Kafka consumption/publication, MongoDB persistence with an outbox, and the
HTTP probes. Services depend on this package; they never import each other.
"""
