"""Two-factor enrolment page (every logged-in user; required for some capacities, see services/totp)."""

from __future__ import annotations

from flask import flash, make_response, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user

from .. import acting
from ..extensions import db
from ..models import User
from ..services import totp

# The secret being enrolled: kept in the signed session until a code proves the app holds it.
PENDING_SECRET = "ce_totp_secret"


class TotpView(BaseView):
    """``/totp/``: enrol (QR code, one code to confirm, recovery codes shown once) or switch off.

    Authenticated-only rather than a permission: it acts only on the logged-in user's own account.
    """

    route_base = "/totp"
    default_view = "setup"

    @expose("/", methods=["GET", "POST"])
    def setup(self):
        if not current_user.is_authenticated:
            return redirect(url_for("CapacityLoginView.login"))
        user = db.session.get(User, current_user.id)
        errors = {}
        if request.method == "POST":
            action = request.form.get("action")
            code = (request.form.get("code") or "")[:24]
            if action == "enrol" and not totp.is_enrolled(user):
                codes = totp.enrol(db.session, user, session.get(PENDING_SECRET) or "", code)
                if codes is not None:
                    session.pop(PENDING_SECRET, None)
                    acting.keep_current_session(user)
                    return self._render(user, recovery_codes=codes)
                errors["code"] = [_("Wrong authentication code. Check the time on your phone and try again.")]
            elif action == "disable" and totp.is_enrolled(user):
                if totp.required_for_user(user):
                    errors["code"] = [_("Two-factor authentication is required for your account and cannot be switched off.")]
                elif totp.disable(db.session, user, code):
                    acting.keep_current_session(user)
                    flash(_("Two-factor authentication has been switched off."), "success")
                    return redirect(url_for("TotpView.setup"))
                else:
                    errors["code"] = [_("Wrong or already used authentication code.")]
        return self._render(user, errors=errors)

    def _render(self, user, errors=None, recovery_codes=None):
        enrolled = totp.is_enrolled(user)
        secret = qr = None
        if not enrolled:
            secret = session.get(PENDING_SECRET)
            if not isinstance(secret, str) or not secret:
                secret = session[PENDING_SECRET] = totp.new_secret()
            qr = totp.qr_svg(totp.provisioning_uri(user, secret))
        actor = acting.current_actor()
        response = make_response(self.render_template(
            "ce/totp_setup.html",
            title=_("Two-factor authentication"),
            enrolled=enrolled,
            secret=secret,
            qr=qr,
            errors=errors or {},
            recovery_codes=recovery_codes,
            remaining=totp.remaining_recovery_codes(db.session, user) if enrolled else 0,
            required=totp.required_for_user(user),
            forced=actor is not None and totp.required_for(actor.capacity) and not enrolled,
        ))
        response.headers["Cache-Control"] = "no-store"
        return response
