"""REST APIs (``/api/v1/<resource>/``), all on the shared scoped base.

Every API authenticates by the session cookie (writes need its CSRF token) or by a bearer token
issued to a logged-in session (``api_token``). Declarations are written only through the
declaration services and workflow, never by the generic model POST/PUT. Fields only a workflow
may change (a professional's employer, states, an organisation's superior or kind, a plan's or a
department's organisation...) are not in any edit schema; ``base.WORKFLOW_FIELDS`` refuses them
again in ``pre_update``.
"""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.exceptions import BadRequest

from ..acting import current_actor
from ..models import Declaration, Department, Organization, Professional, TrainingPlan
from ..services import declarations as declaration_service
from ..services.declarations import DeclarationError, DeclarationInvalid
from .api_token import ApiTokenApi, BearerOrSessionMixin, SpecApi
from .base import ScopedInterface, ScopedRestApi
from .org import DepartmentTreeChecks
from .person import MemberDepartmentCheck


class ScopedApi(BearerOrSessionMixin, ScopedRestApi):
    """The scoped REST base with bearer-token authentication and CSRF on session writes."""


class OrganizationApi(ScopedApi):
    resource_name = "organization"
    datamodel = ScopedInterface(Organization)
    list_columns = ["id", "name", "kind", "credit_code", "parent_id", "region_id", "status"]
    show_columns = list_columns + ["phone", "address", "remark"]
    # Creating an organisation (system administrator only) names its kind and superior; afterwards
    # they change only through a change request or a merger.
    add_columns = ["name", "kind", "credit_code", "parent", "region", "phone", "address"]
    edit_columns = ["name", "phone", "address", "remark"]


class DepartmentApi(DepartmentTreeChecks, ScopedApi):
    resource_name = "department"
    datamodel = ScopedInterface(Department)
    list_columns = ["id", "name", "org_id", "parent_id", "enabled"]
    show_columns = list_columns
    add_columns = ["name", "org", "parent", "enabled"]
    # A department stays in its organisation.
    edit_columns = ["name", "parent", "enabled"]
    tree_error = BadRequest


class ProfessionalApi(MemberDepartmentCheck, ScopedApi):
    resource_name = "professional"
    datamodel = ScopedInterface(Professional)
    list_columns = ["id", "name", "id_number", "gender", "org_id", "department_id", "status"]
    show_columns = list_columns + ["birth_date", "school", "certificate_no", "is_accountant"]
    # The employer changes only through a transfer (人员调转), name and ID number through their reviews.
    edit_columns = ["department", "school", "is_accountant"]
    add_columns = []
    exclude_route_methods = {"post", "delete"}
    department_error = BadRequest


# Fields of the declaration JSON body (plus ``data``: the learning form's own fields).
COMMON_FIELDS = ("subject_type", "form_code", "year", "start_date", "end_date", "result", "requested_hours", "remark")


class DeclarationWriteSchema(Schema):
    """Body of ``POST /api/v1/declaration/`` and ``PUT /api/v1/declaration/<pk>`` (documentation only:
    the declaration service validates every field and reports errors per field)."""

    __component_name__ = "DeclarationWrite"

    subject_type = fields.String(metadata={"description": "public or professional (accountants: always public)"})
    form_code = fields.String(metadata={"description": "code of an enabled learning form, e.g. academic_conference"})
    year = fields.Integer(metadata={"description": "year credited (the current year)"})
    start_date = fields.Date()
    end_date = fields.Date()
    result = fields.String(metadata={"description": "result or score, at most 64 characters"})
    requested_hours = fields.Decimal(
        as_string=True,
        metadata={"description": "only used when the learning form has no standard hours; otherwise computed"},
    )
    remark = fields.String(metadata={"description": "at most 1000 characters"})
    data = fields.Dict(metadata={"description": "the learning form's own fields by name"})
    submit = fields.Boolean(metadata={"description": "POST only: submit at once (needs evidence, so normally false)"})


class DeclarationReviewSchema(Schema):
    """Body of ``POST /api/v1/declaration/<pk>/approve`` and ``/reject``."""

    __component_name__ = "DeclarationReview"

    comment = fields.String(metadata={"description": "required to reject, or when the recognised hours differ"})
    recognised_hours = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "approve only"})


class DeclarationApi(ScopedApi):
    """Declarations: scoped list and show; create, edit, submit, approve and reject through the services."""

    resource_name = "declaration"
    datamodel = ScopedInterface(Declaration)
    list_columns = [
        "id", "professional_id", "org_id", "year", "subject_type", "form_code", "requested_hours",
        "recognised_hours", "state", "handler_org_id",
    ]
    show_columns = list_columns + ["start_date", "end_date", "result", "remark", "data", "declared_by_org_id", "step"]
    # Scalar columns only: ``_info`` describes the body; writes go through the services below.
    add_columns = ["year", "subject_type", "form_code", "start_date", "end_date", "result", "requested_hours", "remark"]
    edit_columns = add_columns
    # Deleting a draft removes its stored evidence too: on the progress page only.
    exclude_route_methods = {"delete"}
    openapi_spec_component_schemas = (DeclarationWriteSchema, DeclarationReviewSchema)

    # -- helpers ------------------------------------------------------------------------------

    def _result(self, obj, status: int = 200):
        data = {"id": obj.id, "result": self.show_model_schema.dump(obj, many=False)}
        self.pre_get(data)
        return self.response(status, **data)

    def _refused(self, exc):
        if isinstance(exc, DeclarationInvalid):
            errors = dict(exc.errors)
            message = _("The request was refused: %(reasons)s", reasons="；".join(errors.values()))
        else:
            errors = {exc.code: str(exc)}
            message = str(exc)
        return self.response(400, message=message, errors=errors)

    def _not_found(self):
        return self.response(404, message=_("The declaration does not exist or is outside your scope."))

    @staticmethod
    def _body():
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None

    def _bad_body(self):
        return self.response(400, message=_("Send a JSON object."), errors={})

    @staticmethod
    def _values(body: dict, base: dict | None = None) -> dict:
        values = dict(base or {})
        for key in COMMON_FIELDS:
            if key in body:
                values[key] = "" if body[key] is None else body[key]
        if "data" in body:
            values["data"] = body["data"] if isinstance(body["data"], dict) else {}
        return values

    @staticmethod
    def _current_values(obj) -> dict:
        values = {key: getattr(obj, key) for key in COMMON_FIELDS}
        values["year"] = "" if obj.year is None else str(obj.year)
        values["requested_hours"] = "" if obj.requested_hours is None else str(obj.requested_hours)
        values["data"] = dict(obj.data or {})
        return values

    # -- writes -------------------------------------------------------------------------------

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def post(self):
        """Create a declaration (the acting professional's own draft)
        ---
        post:
          description: >-
            Saves a draft of the acting professional. The learning form's standard hours override
            any requested_hours sent. Evidence files are uploaded on the declaration page, so
            `submit: true` is refused until the draft has evidence.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DeclarationWrite'
          responses:
            201:
              description: The declaration was created
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            400:
              description: Invalid values (message and errors by field)
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        body = self._body()
        if body is None:
            return self._bad_body()
        try:
            obj = declaration_service.save_declaration(
                current_actor(), self._values(body), [], submit=body.get("submit") is True
            )
        except (DeclarationInvalid, DeclarationError) as exc:
            return self._refused(exc)
        return self._result(obj, 201)

    @expose("/<pk>", methods=["PUT"])
    @protect()
    @safe
    @permission_name("put")
    def put(self, pk):
        """Edit a draft of the acting professional
        ---
        put:
          description: >-
            Fields left out keep their saved values; `data`, when sent, replaces the learning
            form's fields. Only the professional's own drafts can be edited.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DeclarationWrite'
          responses:
            200:
              description: The draft was saved
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id:
                        type: integer
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            400:
              description: Invalid values, or not a draft (message and errors by field)
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        actor = current_actor()
        obj = declaration_service.visible_declaration(actor, pk)
        if obj is None:
            return self._not_found()
        body = self._body()
        if body is None:
            return self._bad_body()
        try:
            obj = declaration_service.save_declaration(
                actor, self._values(body, self._current_values(obj)), [], declaration_id=obj.id
            )
        except (DeclarationInvalid, DeclarationError) as exc:
            return self._refused(exc)
        return self._result(obj)

    @expose("/<pk>/submit", methods=["POST"])
    @protect()
    @safe
    @permission_name("submit")
    def submit(self, pk):
        """Submit a draft of the acting professional for review
        ---
        post:
          description: The draft needs at least one evidence file (uploaded on the declaration page).
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The declaration is pending review
            400:
              description: Refused (message and errors by field)
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        actor = current_actor()
        obj = declaration_service.visible_declaration(actor, pk)
        if obj is None:
            return self._not_found()
        try:
            obj = declaration_service.submit(actor, obj.id)
        except (DeclarationInvalid, DeclarationError) as exc:
            return self._refused(exc)
        return self._result(obj)

    def _review(self, pk, trigger: str):
        actor = current_actor()
        obj = declaration_service.visible_declaration(actor, pk)
        if obj is None:
            return self._not_found()
        body = self._body()
        if body is None:
            body = {}
        comment = body.get("comment")
        comment = comment if isinstance(comment, str) else ""
        hours = body.get("recognised_hours")
        recognised = {obj.id: str(hours)} if trigger == "approve" and hours not in (None, "") else None
        try:
            [obj] = declaration_service.review(actor, [obj.id], trigger, comment=comment, recognised_hours=recognised)
        except (DeclarationInvalid, DeclarationError) as exc:
            return self._refused(exc)
        return self._result(obj)

    @expose("/<pk>/approve", methods=["POST"])
    @protect()
    @safe
    @permission_name("review")
    def approve(self, pk):
        """Approve a declaration waiting for the acting organisation
        ---
        post:
          description: >-
            Forwards the declaration to the next reviewer on its route, or approves it finally
            (the recognised hours then count). A comment is needed when the recognised hours
            differ from the requested hours.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: false
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DeclarationReview'
          responses:
            200:
              description: Approved (or forwarded)
            400:
              description: Refused (message and errors by field)
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        return self._review(pk, "approve")

    @expose("/<pk>/reject", methods=["POST"])
    @protect()
    @safe
    @permission_name("review")
    def reject(self, pk):
        """Reject a declaration waiting for the acting organisation
        ---
        post:
          description: A comment (the reason) is required.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/DeclarationReview'
          responses:
            200:
              description: Rejected
            400:
              description: Refused (message and errors by field)
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        return self._review(pk, "reject")


class TrainingPlanApi(ScopedApi):
    resource_name = "training_plan"
    datamodel = ScopedInterface(TrainingPlan)
    list_columns = ["id", "name", "org_id", "year", "subject_type", "state"]
    show_columns = list_columns + ["planned_headcount", "description"]
    add_columns = ["name", "org", "year", "subject_type", "planned_headcount"]
    # The plan's organisation and state change only through the plan review.
    edit_columns = ["name", "planned_headcount", "description"]

    def pre_update(self, item):
        if item.state not in ("draft", "rejected"):
            self.datamodel.session.rollback()
            raise BadRequest(_("An approved or pending plan cannot be changed."))
        super().pre_update(item)

    def pre_delete(self, item):
        if item.state not in ("draft", "rejected"):
            raise BadRequest(_("An approved or pending plan cannot be deleted."))


APIS = [OrganizationApi, DepartmentApi, ProfessionalApi, DeclarationApi, TrainingPlanApi]
# The token endpoint and the OpenAPI spec, registered next to the APIs (no model, not scoped).
AUTH_APIS = [ApiTokenApi, SpecApi]
