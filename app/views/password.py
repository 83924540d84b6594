"""Password pages: change (logged in), forgotten password (public), reset by link, admin reset."""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _
from flask_appbuilder.utils.base import get_safe_redirect
from flask_login import current_user, logout_user

from .. import acting
from ..extensions import db
from ..models import User
from ..services import passwords as pw
from ..services.mail import send_mail
from ..services.public_urls import public_url
from .base import masked

#: Forgot-password POSTs per client address (Flask-Limiter syntax); ``CE_FORGOT_RATE_LIMIT`` overrides.
DEFAULT_FORGOT_RATE_LIMIT = "5 per minute"


def show_one_time_password(view, user: User, value: str, back: str, created: bool = False):
    """The page showing a one-time password once, to the admin who set it: never stored, never in a
    URL, and marked ``no-store`` so neither the browser nor a proxy keeps a copy."""
    html = view.render_template(
        "ce/one_time_password.html",
        title=_("Administrator account created") if created else _("Password reset"),
        user=user,
        value=value,
        hours=pw.ONE_TIME_HOURS,
        mailed=bool(user.email) and pw.mail_configured(),
        back=back,
        created=created,
        masked=masked,
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _signed_out_after_change(message: str):
    """Changing a password ends every session of the user, this one included: sign in again."""
    logout_user()
    acting.forget()
    flash(message, "success")
    return redirect(url_for("CapacityLoginView.login"))

ADMIN_RESET_VIEW = "PasswordAdminView"


class PasswordView(BaseView):
    """Change, forgot and reset-by-link (the last two public)."""

    route_base = "/password"
    default_view = "change"

    @expose("/change", methods=["GET", "POST"])
    def change(self):
        if not current_user.is_authenticated:
            return redirect(url_for("CapacityLoginView.login"))
        user = db.session.get(User, current_user.id)
        errors = {}
        if request.method == "POST":
            try:
                pw.change_password(
                    db.session,
                    user,
                    request.form.get("old_password", ""),
                    request.form.get("new_password", ""),
                    request.form.get("confirm_password", ""),
                )
            except pw.PasswordError as exc:
                errors = exc.errors
            else:
                return _signed_out_after_change(_("Your password has been changed. Please sign in with the new password."))
        return self.render_template(
            "ce/password_change.html", title=_("Change password"), errors=errors, forced=bool(user.must_change_password)
        )

    @expose("/forgot", methods=["GET", "POST"])
    def forgot(self):
        sent = False
        values = {"id_number": "", "contact": ""}
        errors = {}
        if request.method == "POST":
            limit = current_app.config.get("CE_FORGOT_RATE_LIMIT") or DEFAULT_FORGOT_RATE_LIMIT
            with current_app.appbuilder.sm.limiter.limit(limit):  # per client address; 429 beyond
                pass
            values = {k: (request.form.get(k) or "").strip()[:64] for k in values}
            for key in values:
                if not values[key]:
                    errors[key] = [_("This field is required.")]
            if not errors:
                user = pw.find_for_reset(db.session, values["id_number"], values["contact"])
                if user is not None and user.email:
                    token = pw.make_reset_token(user)
                    # The configured public address, never the request's Host (a client chooses that).
                    link = public_url(url_for("PasswordView.reset", token=token))
                    send_mail(
                        user.email,
                        _("Reset your password"),
                        _(
                            "Open this link within one hour to set a new password:\n%(link)s\n\n"
                            "If you did not ask for this, ignore this message.",
                            link=link,
                        ),
                    )
                sent = True  # the same answer whether or not anything matched
        return self.render_template(
            "ce/password_forgot.html", title=_("Forgot password"), values=values, errors=errors, sent=sent
        )

    @expose("/reset/<token>", methods=["GET", "POST"])
    def reset(self, token):
        user = pw.user_for_token(db.session, token)
        errors = {}
        if user is not None and request.method == "POST":
            try:
                pw.reset_with_token(
                    db.session, token, request.form.get("new_password", ""), request.form.get("confirm_password", "")
                )
            except pw.PasswordError as exc:
                errors = exc.errors
            else:
                flash(_("Your password has been set. Please sign in."), "success")
                return redirect(url_for("CapacityLoginView.login"))
        return self.render_template(
            "ce/password_reset.html", title=_("Set a new password"), errors=errors, valid=user is not None
        )


class PasswordAdminView(BaseView):
    """An organisation admin resets the password of a professional or admin inside its scope."""

    route_base = "/password/admin-reset"
    default_view = "admin_reset"
    class_permission_name = ADMIN_RESET_VIEW

    @expose("/<int:user_id>", methods=["POST"])
    @has_access
    def admin_reset(self, user_id):
        """Reset to a random one-time password shown once on the response page (see
        ``services.passwords.reset_refusal`` for who may reset whom); a refusal says why (403)."""
        actor = acting.current_actor()
        user = db.session.get(User, user_id)
        if actor is None or user is None:
            abort(404)
        try:
            value = pw.admin_reset(db.session, actor, user)
        except LookupError as exc:
            html = self.render_template(
                "ce/error.html", code=403, title=_("The password was not reset"), message=exc.args[0] if exc.args else ""
            )
            return html, 403
        target = request.form.get("next") or request.referrer or ""
        back = get_safe_redirect(target) if target else url_for("HomeView.index")
        return show_one_time_password(self, user, value, back)


# Endpoints still open to a user who must change the password first.
FORCED_CHANGE_ALLOWED = {
    "PasswordView.change",
    "CapacityLoginView.logout",
    "CapacityLoginView.login",
    "CaptchaView.image",
    "static",
    "appbuilder.static",
    "LocaleView.index",
}


def enforce_password_change():
    """before_request: a user flagged ``must_change_password`` only reaches the change form."""
    if request.endpoint is None or request.endpoint in FORCED_CHANGE_ALLOWED or request.endpoint.endswith(".static"):
        return None
    if not current_user or not current_user.is_authenticated:
        return None
    if not getattr(current_user, "must_change_password", False):
        return None
    if request.path.startswith("/api/"):
        abort(403)
    return redirect(url_for("PasswordView.change"))

