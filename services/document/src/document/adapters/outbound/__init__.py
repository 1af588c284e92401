"""Outbound adapters: MongoDB, Kafka and other implementations of the ports."""
