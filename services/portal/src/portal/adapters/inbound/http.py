"""HTTP routes of the portal service: the pages, grouped by screen (``pages_*.py``)."""

from fastapi import APIRouter

from portal.adapters.inbound import (
    pages_applications,
    pages_consent,
    pages_criteria,
    pages_criteria_approvals,
    pages_criteria_drafts,
    pages_dead_letters,
    pages_ops,
    pages_outlook,
    pages_public,
    pages_results,
    pages_review,
    pages_verify,
)

routers: list[APIRouter] = [
    pages_public.router,
    pages_verify.router,
    pages_consent.router,
    pages_applications.router,
    pages_results.router,
    pages_outlook.router,
    pages_review.router,
    pages_ops.router,
    pages_dead_letters.router,
    pages_criteria.router,
    pages_criteria_drafts.router,
    pages_criteria_approvals.router,
]
