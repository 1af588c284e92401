"""The consent service's domain: validation, the consent aggregate, files, access log."""
