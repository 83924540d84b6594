"""Security manager: our user model, capacity login, and roles that follow the acting capacity."""

from __future__ import annotations

from flask import current_app, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, RoleModelView, UserDBModelView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from . import acting
from .capacities import CAPACITIES, LABELS, ROLE_NAMES
from .models import User
from .services import captcha as captcha_service
from .services import totp
from .services.auth import MESSAGES, LoginError, authenticate, clear_failures, is_locked, record_login, register_failure
from .services.sessions import end_sessions


class CapacityLoginForm(FlaskForm):
    capacity = SelectField(_l("User type"), choices=[], validators=[DataRequired()])
    username = StringField(_l("ID number"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    captcha = StringField(_l("Captcha"), validators=[DataRequired(), Length(max=8)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity.choices = [(c, LABELS[c]) for c in CAPACITIES]


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Authentication code"), validators=[DataRequired(), Length(max=24)])


class CapacityLoginView(AuthDBView):
    """Login with 用户类型 + ID number + password + captcha, and the SPEC's distinct messages.

    A user with a second factor is not logged in after the password: the session only remembers the
    pending user for a few minutes until ``/login/code/`` accepts a TOTP or recovery code.
    """

    login_template = "ce/login.html"

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated and acting.current_actor() is not None:
            return redirect(self._get_safe_next_url())
        form = CapacityLoginForm()
        error = None
        if form.validate_on_submit():
            if not captcha_service.consume(self.appbuilder.session, form.captcha.data):
                form.captcha.errors = list(form.captcha.errors) + [str(MESSAGES["bad_captcha"])]
            else:
                try:
                    user, actor = authenticate(
                        self.appbuilder.session, form.capacity.data, form.username.data, form.password.data
                    )
                except LoginError as exc:
                    error = exc
                else:
                    next_url = get_safe_redirect(request.args.get("next", ""))
                    if totp.is_enrolled(user):
                        session.clear()
                        acting.begin_second_factor(user, actor, next_url)
                        return redirect(url_for("CapacityLoginView.second_factor"))
                    return self._complete_login(user, actor, next_url)
        form.captcha.data = ""
        return self.render_template(
            self.login_template,
            title=_("Sign In"),
            form=form,
            error=error,
            error_text=_format_error(error),
            appbuilder=self.appbuilder,
        )

    @expose("/login/code/", methods=["GET", "POST"])
    def second_factor(self):
        """Second step for a user with TOTP: a current code or a recovery code, each usable once;
        wrong codes count towards the lockout like wrong passwords."""
        db_session = self.appbuilder.session
        pending = acting.pending_second_factor(lambda pk: db_session.get(User, pk) if isinstance(pk, int) else None)
        if pending is None:
            return redirect(url_for("CapacityLoginView.login"))
        user, actor, next_url = pending
        form = SecondFactorForm()
        error = None
        if form.validate_on_submit():
            if is_locked(user):
                error = LoginError("locked", MESSAGES["locked"])
            elif totp.verify_second_factor(db_session, user, form.code.data):
                clear_failures(db_session, user)
                return self._complete_login(user, actor, next_url)
            else:
                locked = register_failure(db_session, user, actor.capacity)
                record_login(db_session, "login_failed", user, actor.capacity, reason="bad_code")
                db_session.commit()
                error = LoginError("locked", MESSAGES["locked"]) if locked else LoginError("bad_code", MESSAGES["bad_code"])
            if error.code == "locked":
                session.pop(acting.PENDING_KEY, None)
        form.code.data = ""
        return self.render_template(
            "ce/login_code.html",
            title=_("Two-factor authentication"),
            form=form,
            error=error,
            error_text=_format_error(error),
            appbuilder=self.appbuilder,
        )

    def _complete_login(self, user, actor, next_url):
        """Authenticate the session (password, captcha and any second factor passed) and audit it."""
        session.clear()
        login_user(user, remember=False)
        acting.start_session(user, actor)
        record_login(self.appbuilder.session, "login", user, actor.capacity, org_id=None if actor.is_person else actor.org_id)
        self.appbuilder.sm.update_user_auth_stat(user, True)
        self.appbuilder.session.commit()
        if totp.required_for(actor.capacity) and not totp.is_enrolled(user):
            return redirect(url_for("TotpView.setup"))
        return redirect(next_url)

    @expose("/logout/", methods=["POST"])
    def logout(self):
        """End this session and every other session and API token of the user (``end_sessions``)."""
        if current_user.is_authenticated:
            db_session = self.appbuilder.session
            user = db_session.get(User, current_user.id)
            if user is not None:
                end_sessions(user)
                record_login(db_session, "logout", user, session.get("ce_capacity"))
                db_session.commit()
        logout_user()
        acting.forget()
        session.clear()
        return redirect(url_for("CapacityLoginView.login"))


def _format_error(error: LoginError | None) -> str | None:
    if error is None:
        return None
    if error.code == "locked":
        return str(error.message) % {"minutes": current_app.config.get("CE_LOCKOUT_MINUTES", 15)}
    return str(error.message) % {"org": error.reviewer or ""} if "%(org)s" in str(error.message) else str(error.message)


class NoSecurityApi(SecurityApi):
    """FAB's JWT login would bypass the captcha and the capacity choice: expose none of its routes."""

    include_route_methods: set = set()


class CEUserDBModelView(UserDBModelView):
    """FAB's user admin, registered only with the developer flag ``CE_DEV_SECURITY_PAGES``
    (``CESecurityManager.register_views``); with the ID number and Chinese yes/no."""

    list_columns = ["last_name", "first_name", "username", "email", "active", "roles"]
    search_columns = ["username", "first_name", "last_name", "email", "active"]

    def __init__(self, **kwargs):
        from .views.base import masked, yes_no

        self.formatters_columns = {"active": yes_no, "username": masked, "roles": lambda roles: "，".join(str(role_label(r.name)) for r in roles)}
        super().__init__(**kwargs)


def role_label(name):
    """Base capacity roles shown by their capacity's (translated) name."""
    by_role = {role: LABELS[cap] for cap, role in ROLE_NAMES.items()}
    return by_role.get(name, name)


class CERoleModelView(RoleModelView):
    list_columns = ["name"]

    def __init__(self, **kwargs):
        self.formatters_columns = {"name": role_label}
        super().__init__(**kwargs)


class CESecurityManager(SecurityManager):
    user_model = User
    authdbview = CapacityLoginView
    security_api = NoSecurityApi
    userdbmodelview = CEUserDBModelView
    rolemodelview = CERoleModelView

    def register_views(self):
        """FAB's login, API and the auth rate limit; FAB's raw user/role/permission pages (English
        tokens such as ``can list on OrganizationView``, internal role names) only with the
        developer flag ``CE_DEV_SECURITY_PAGES``. Without it they are not routed at all (404 for
        everyone, the system administrator included), and have no menu entry: the system
        administrator uses 用户管理 (``UserAdminView``) and 基础角色权限 (``RoleMatrixView``)."""
        if current_app.config.get("CE_DEV_SECURITY_PAGES"):
            return super().register_views()
        if not current_app.config.get("FAB_ADD_SECURITY_VIEWS", True):
            return None
        self.appbuilder.add_api(self.security_api)
        self.user_view = None  # no user admin page: nothing links to FAB's user info
        self.auth_view = self.authdbview()
        self.appbuilder.add_view_no_menu(self.auth_view)
        if self.is_auth_limited:
            self.limiter.limit(self.auth_rate_limit, methods=["POST"])(self.auth_view.blueprint)
        return None

    @property
    def auth_rate_limit(self) -> str:
        """Login POSTs per client address: FAB limits the auth view's blueprint with this."""
        return current_app.config.get("CE_LOGIN_RATE_LIMIT") or current_app.config["AUTH_RATE_LIMIT"]

    # -- sessions that end (issue 10) -------------------------------------------------------

    def create_login_manager(self, app):
        """Flask-Login loads a session's user only while that session is current (see ``load_session_user``)."""
        lm = super().create_login_manager(app)
        lm.user_loader(self.load_session_user)
        return lm

    def load_session_user(self, pk):
        """The user of a session cookie, or None (anonymous, on every page, FAB's included) when the
        session was ended (logout, password change, disable, reset), idle too long or too old."""
        user = self.load_user(pk)
        if user is None or not acting.session_is_current(user):
            acting.drop_login()
            return None
        return user

    def before_request(self):
        """FAB's hook (``g.user``), then the second-factor enrolment gate of ``acting``."""
        g.user = current_user
        return acting.require_second_factor()

    def get_user_roles(self, user):
        """Only the roles of the acting capacity.

        A professional, a system administrator and an organisation's super admin act with the
        capacity's base role (a super admin also with any role assigned to it); an ordinary admin
        acts with its assigned roles only (角色管理), so none means no permission at all.
        """
        if not user.is_authenticated:
            return [self.get_public_role()]
        if "ce_roles" in g:
            return g.ce_roles
        actor = acting.current_actor()
        roles = []
        if actor is not None:
            membership = None
            if actor.membership_id:
                from .models import Membership

                membership = self.session.get(Membership, actor.membership_id)
            if membership is None or membership.is_super:
                base = self.find_role(ROLE_NAMES[actor.capacity])
                if base is not None:
                    roles.append(base)
            if membership is not None:
                roles.extend(r for r in membership.roles if r not in roles)
        g.ce_roles = roles
        return roles

    # -- permissions: one query per request for the acting roles ----------------------------

    def _acting_permissions(self, user) -> frozenset:
        """(permission, view menu) pairs of the acting roles, loaded once per request."""
        if "ce_perms" in g:
            return g.ce_perms
        from flask_appbuilder.security.sqla.models import Permission, PermissionView, ViewMenu, assoc_permissionview_role

        role_ids = [r.id for r in self.get_user_roles(user)]
        rows = []
        if role_ids:
            rows = (
                self.session.query(Permission.name, ViewMenu.name)
                .select_from(PermissionView)
                .join(Permission, PermissionView.permission_id == Permission.id)
                .join(ViewMenu, PermissionView.view_menu_id == ViewMenu.id)
                .join(assoc_permissionview_role, assoc_permissionview_role.c.permission_view_id == PermissionView.id)
                .filter(assoc_permissionview_role.c.role_id.in_(role_ids))
                .all()
            )
        g.ce_perms = frozenset((p, v) for p, v in rows)
        return g.ce_perms

    def _has_view_access(self, user, permission_name, view_name) -> bool:
        return (permission_name, view_name) in self._acting_permissions(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:
            return super()._get_user_permission_view_menus(user, permission_name, view_menus_name)
        wanted = set(view_menus_name) if view_menus_name is not None else None
        return {
            v for p, v in self._acting_permissions(user) if p == permission_name and (wanted is None or v in wanted)
        }

