"""Home page (what waits for this user), the captcha image and the capacity switch."""

from __future__ import annotations

from flask import abort, current_app, make_response, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import acting
from ..capacities import LABELS
from ..extensions import db
from ..services import captcha as captcha_service
from ..services.admins import count_my_invitations
from ..services.dashboard import waiting_counts


class HomeView(IndexView):
    index_template = "ce/index.html"

    @expose("/")
    def index(self):
        actor = acting.current_actor()
        if current_user.is_authenticated and actor is None:
            # Logged in but without a usable capacity (e.g. membership disabled meanwhile).
            return redirect(url_for("CapacityLoginView.login"))
        sm = self.appbuilder.sm
        counts = waiting_counts(db.session, actor, lambda perm, view: sm.has_access(perm, view)) if actor else []
        invitations = count_my_invitations(db.session, actor) if actor else 0
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, actor=actor, counts=counts, capacity_labels=LABELS,
            invitations=invitations,
        )


class CaptchaView(BaseView):
    """Public: a new captcha image; the session keeps only a one-use challenge id (services/captcha)."""

    route_base = "/captcha"
    default_view = "image"

    @expose("/image.png")
    def image(self):
        factory = current_app.config.get("CE_CAPTCHA_TEXT_FACTORY")
        text = factory() if factory else captcha_service.new_text(current_app.config.get("CE_CAPTCHA_LENGTH", 4))
        captcha_service.issue(db.session, text)
        response = make_response(captcha_service.render_png(text))
        response.headers["Content-Type"] = "image/png"
        response.headers["Cache-Control"] = "no-store"
        return response


class ActingView(BaseView):
    """Switch between the capacities and organisations the logged-in user holds."""

    route_base = "/acting"
    default_view = "choose"
    title = _l("Switch capacity")

    @expose("/", methods=["GET", "POST"])
    def choose(self):
        from ..models import User
        from ..services.auth import actor_for_membership, available_capacities
        from ..services.scope import Actor

        if not current_user.is_authenticated:
            return redirect(url_for("CapacityLoginView.login"))
        user = db.session.get(User, current_user.id)
        options = available_capacities(user)
        if request.method == "POST":
            try:
                index = int(request.form.get("option", "-1"))
                capacity, membership = options[index]
            except (ValueError, IndexError):
                abort(400)
            if membership is not None:
                actor = actor_for_membership(membership)
            elif capacity == "person":
                actor = Actor(user_id=user.id, capacity=capacity, org_id=user.professional.org_id, person_id=user.professional.id)
            else:
                actor = Actor(user_id=user.id, capacity=capacity)
            acting.remember(actor)
            return redirect(url_for("HomeView.index"))
        return self.render_template("ce/acting.html", options=options, labels=LABELS, title=self.title)
