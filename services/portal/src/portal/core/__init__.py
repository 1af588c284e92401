"""Domain logic of the service: pure, no I/O."""
