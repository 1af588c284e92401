"""The CCUS feed: a stand-in for the CCUS partner system that publishes ``CcusWorkerSnapshot``.

``python -m judgement feed synthetic|file|demo`` (see :mod:`judgement.feed.cli` and
docs/ccus-feed.md). Not part of the judgement service's runtime: nothing in ``inject.py``
uses it.
"""
