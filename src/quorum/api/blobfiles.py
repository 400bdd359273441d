"""Serving stored blobs so that none of them can act as a page of our origin.

Blobs are files tenants sent. Served from the app's origin, an HTML or SVG file would run its
scripts with a worker's or a customer's session, so only names the store makes are served, each
with the content type its bytes were stored as, ``nosniff`` so browsers keep to that type, and a
``sandbox`` policy so a document opened directly still has no origin and runs nothing.
"""

import os

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from quorum.blobs import media_type_of

BLOB_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
    # Names are derived from the content, so a name's bytes never change.
    "Cache-Control": "public, max-age=31536000, immutable",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


class InertBlobFiles(StaticFiles):
    """StaticFiles for the blob directory: store-made names only, served inert."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if media_type_of(path) is None:
            raise HTTPException(status_code=404, detail="no such blob")
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: "os.PathLike[str] | str",
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["content-type"] = media_type_of(os.path.basename(full_path)) or ""
        response.headers.update(BLOB_HEADERS)
        return response
