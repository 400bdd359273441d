"""All page routers, included by the app as one."""

from fastapi import APIRouter

from quorum.web import customer, review, worker

router = APIRouter()
router.include_router(worker.router)
router.include_router(customer.router)
router.include_router(review.router)
