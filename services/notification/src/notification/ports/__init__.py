"""Interfaces the core needs from the outside world (mailer, templates, metrics); the
collections are ``shared_kernel.aggregate.Aggregates`` of the core's models."""

from notification.ports.mailer import Mailer, PermanentFailure, Renderer, TransientFailure
from notification.ports.metrics import Metrics, NoMetrics

__all__ = ["Mailer", "Metrics", "NoMetrics", "PermanentFailure", "Renderer", "TransientFailure"]
