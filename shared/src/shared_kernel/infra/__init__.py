"""Infrastructure of the shared kernel: MongoDB, Kafka, the web layer, settings, logging,
authentication and test helpers. A service's ``core`` never imports from here
(``tests/architecture``); adapters and ``inject.py`` do."""
