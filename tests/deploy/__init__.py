"""Checks of deploy/: Prometheus configuration and alert rules (promtool), Grafana dashboard."""
