"""The customer and reviewer page routers, included by the app as one (the workers' pages are
included on their own, near the front of the route table: they take most page requests)."""

from fastapi import APIRouter

from quorum.web import customer, review

router = APIRouter()
router.include_router(customer.router)
router.include_router(review.router)
