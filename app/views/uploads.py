"""Stored uploads, served only to readers whose scope covers the row that references them."""

from __future__ import annotations

import os

from flask import abort, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from ..acting import current_actor
from ..extensions import db
from ..models import Attachment, Deregistration, Organization
from ..services import scope
from ..services.declarations import visible_declaration
from ..services.reductions import visible_reduction
from ..services.uploads import mimetype_of, upload_path

UPLOAD_VIEW = "UploadView"


def _send(rel_path: str | None):
    if not rel_path:
        abort(404)
    try:
        full = upload_path(rel_path)
    except ValueError:
        abort(404)
    if not os.path.isfile(full):
        abort(404)
    response = send_file(full, mimetype=mimetype_of(rel_path), max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


class UploadView(BaseView):
    """``/uploads/...``: 404 unless the referencing row is in the acting user's scope."""

    route_base = "/uploads"
    default_view = "org_certificate"

    @expose("/org/<int:org_id>/certificate")
    @has_access
    @permission_name("download")
    def org_certificate(self, org_id: int):
        """The certificate scan of an organisation in the actor's scope (reviewers: their subtree)."""
        if not scope.visible(db.session, Organization, current_actor(), org_id):
            abort(404)
        return _send(db.session.get(Organization, org_id).certificate_scan)

    @expose("/deregistration/<int:pk>/proof")
    @has_access
    @permission_name("download")
    def deregistration_proof(self, pk: int):
        """The proof file of a deregistration request in the actor's scope."""
        if not scope.visible(db.session, Deregistration, current_actor(), pk):
            abort(404)
        return _send(db.session.get(Deregistration, pk).proof_file)

    @expose("/attachment/<int:pk>")
    @has_access
    @permission_name("download")
    def attachment(self, pk: int):
        """An evidence image, to whoever may see its declaration (``services.declarations.visible_declaration``)."""
        attachment = db.session.get(Attachment, pk)
        # The same rule as the declaration's detail page (its reviewers on the route see it too).
        if attachment is None or visible_declaration(current_actor(), attachment.declaration_id) is None:
            abort(404)
        return _send(attachment.stored_path)

    @expose("/reduction/<int:pk>/<int:index>")
    @has_access
    @permission_name("download")
    def reduction_evidence(self, pk: int, index: int):
        """An evidence image of a reduced-requirement request, to whoever may see the request
        (``services.reductions.visible_reduction``: the person, its employer's superiors, its reviewers)."""
        obj = visible_reduction(current_actor(), pk)
        evidence = list(obj.evidence or []) if obj is not None else []
        if not 0 <= index < len(evidence) or not isinstance(evidence[index], dict):
            abort(404)
        return _send(evidence[index].get("stored_path"))
