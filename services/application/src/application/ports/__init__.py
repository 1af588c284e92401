"""Interfaces the application service needs from the outside world: its aggregates
(``shared_kernel.aggregate.Aggregates``) and the judgement service."""

from application.ports.judgement import JudgementPort

__all__ = ["JudgementPort"]
