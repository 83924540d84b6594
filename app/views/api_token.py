"""REST authentication: a session (captcha passed, capacity chosen) may obtain a short-lived JWT.

There is deliberately no password → token endpoint (FAB's ``/api/v1/security/login`` stays off): a
token is issued only to a browser session that logged in through the capacity login form, by a
CSRF-protected ``POST /api/v1/token/``. The token's claims carry the acting capacity and membership;
``app.acting`` reads them (and re-checks the membership and person in the database) for requests
authenticated by ``Authorization: Bearer …``.

Every REST API of the product uses ``BearerOrSessionMixin``: a bearer request is verified before
the view runs (401 JSON when missing, invalid or expired) and needs no CSRF token (a browser never
sends that header by itself); any other writing request (the session cookie) must carry the CSRF
token — FAB exempts its API blueprints from CSRF, the mixin puts the check back.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, jsonify, request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.api.manager import OpenApi
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import gettext as _
from flask_jwt_extended import create_access_token, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_login import current_user
from jwt.exceptions import PyJWTError

from .. import acting
from ..extensions import csrf

CLAIM_CAPACITY = "ce_capacity"
CLAIM_MEMBERSHIP = "ce_membership_id"
# The user's ``session_epoch`` when the token was issued: logout, password change, disable and reset
# bump it (``services.sessions.end_sessions``) and so end every token issued before.
CLAIM_EPOCH = "ce_epoch"
CSRF_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def has_bearer_header() -> bool:
    """True when the request carries an ``Authorization: Bearer`` header."""
    return request.headers.get("Authorization", "")[:7].lower() == "bearer "


def is_bearer_request() -> bool:
    """True when this request was authenticated by a verified bearer token (not the session)."""
    return bool(g.get("ce_bearer"))


def bearer_claims() -> dict | None:
    """The verified JWT claims of a bearer-authenticated request, else None."""
    return get_jwt() if is_bearer_request() else None


def _unauthorized():
    response = jsonify(message=_("The access token is missing, invalid or expired. Sign in and request a new one."))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def authenticate_api_request():
    """Blueprint ``before_request`` of every REST API: verify a bearer token, or require CSRF for writes.

    A bearer token must be a valid, unexpired access token of an active user carrying a capacity
    claim, issued since the user's sessions were last ended and with no forced password change
    pending; when the request also has a logged-in session, both must be the same user. Returns a
    401 response when not; otherwise marks the request as bearer-authenticated and drops any actor
    computed earlier in the request (it now comes from the token's claims).
    """
    if has_bearer_header():
        try:
            verify_jwt_in_request()
        except (JWTExtendedException, PyJWTError):
            return _unauthorized()
        claims = get_jwt()
        if not claims.get(CLAIM_CAPACITY):
            return _unauthorized()
        if current_user.is_authenticated and str(current_user.id) != str(claims.get("sub")):
            return _unauthorized()
        if not acting.token_is_current(_token_user(claims), claims):
            return _unauthorized()
        g.ce_bearer = True
        for key in ("ce_actor", "ce_roles", "ce_perms"):
            g.pop(key, None)
        return None
    methods = set(current_app.config.get("WTF_CSRF_METHODS") or CSRF_METHODS)
    if current_app.config.get("WTF_CSRF_ENABLED", True) and request.method in methods:
        csrf.protect()  # raises CSRFError (400) without a valid token
    return None


def _token_user(claims: dict):
    from ..extensions import db
    from ..models import User

    try:
        return db.session.get(User, int(claims.get("sub")))
    except (TypeError, ValueError):
        return None


class BearerOrSessionMixin:
    """Mixin for FAB ``BaseApi`` classes: installs ``authenticate_api_request`` on the API's blueprint."""

    def create_blueprint(self, appbuilder, *args, **kwargs):
        blueprint = super().create_blueprint(appbuilder, *args, **kwargs)
        blueprint.before_request(authenticate_api_request)
        return blueprint


def token_lifetime() -> timedelta:
    """How long an issued access token is valid (``CE_API_TOKEN_SECONDS``, default 30 minutes)."""
    return timedelta(seconds=int(current_app.config.get("CE_API_TOKEN_SECONDS", 1800)))


class ApiTokenApi(BearerOrSessionMixin, BaseApi):
    """``POST /api/v1/token/``: an access token for the logged-in session's acting capacity."""

    resource_name = "token"
    class_permission_name = "ApiToken"
    allow_browser_login = True
    openapi_spec_tag = "Token"

    @expose("/", methods=["POST"])
    @protect(allow_browser_login=True)
    @safe
    @permission_name("issue")
    def issue(self):
        """Issue an access token for the session's acting capacity
        ---
        post:
          description: >-
            Called from a logged-in browser session (capacity login with captcha) with the
            session cookie and its CSRF token (header X-CSRFToken). Returns a short-lived
            access token whose claims carry the acting capacity and membership; send it as
            `Authorization: Bearer <token>`. A token cannot be used to obtain another one.
          responses:
            200:
              description: The access token
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      token_type:
                        type: string
                      expires_in:
                        type: integer
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/403'
        """
        if is_bearer_request() or not current_user.is_authenticated:
            return _unauthorized()
        actor = acting.current_actor()
        user = _token_user({"sub": actor.user_id}) if actor is not None else None
        if actor is None or user is None or user.must_change_password:
            return _unauthorized()
        lifetime = token_lifetime()
        token = create_access_token(
            identity=str(actor.user_id),
            additional_claims={
                CLAIM_CAPACITY: actor.capacity,
                CLAIM_MEMBERSHIP: actor.membership_id,
                CLAIM_EPOCH: user.session_epoch or 0,
            },
            expires_delta=lifetime,
        )
        response = self.response(
            200, access_token=token, token_type="Bearer", expires_in=int(lifetime.total_seconds())
        )
        response.headers["Cache-Control"] = "no-store"
        return response


class SpecApi(BearerOrSessionMixin, OpenApi):
    """FAB's OpenAPI spec (``GET /api/v1/_openapi``) without the Swagger UI, readable with a token too."""

    class_permission_name = "OpenApi"
