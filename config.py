"""Settings. SQLite under instance/ by default; DATABASE_URL switches to PostgreSQL."""

import os

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.environ.get("CE_INSTANCE_DIR", os.path.join(BASE_DIR, "instance"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(INSTANCE_DIR, "ce.db")
    # psycopg 3 is the driver we ship; accept the usual postgres:// spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _env_flag(name: str):
    """True / False from the environment ("1", "true", "yes", "on" / "0", "false", "no", "off");
    None when unset: ``app.settings.apply_environment`` then fills in the default of the environment."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


# Production is recognised by CE_ENV=production (anything else is development). In production the app
# refuses to start without SECRET_KEY and CE_PUBLIC_BASE_URL, and cookies are Secure, HSTS is sent,
# HTTP is redirected to HTTPS, TOTP is required for the system and province HR administrators.
CE_ENV = os.environ.get("CE_ENV", "development").strip().lower()
# No constant key anywhere: unset, development generates one into instance/secret_key (mode 0600,
# reused afterwards; CE_SECRET_KEY_FILE names another file) and production refuses to start.
SECRET_KEY = os.environ.get("SECRET_KEY") or None
CE_SECRET_KEY_FILE = os.environ.get("CE_SECRET_KEY_FILE") or None
SQLALCHEMY_DATABASE_URI = _database_url()
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

APP_NAME = "专业技术人员继续教育信息服务平台"
APP_THEME = ""
FAB_BASE_TEMPLATE = "ce/baselayout.html"
FAB_INDEX_VIEW = "app.views.home.HomeView"
FAB_SECURITY_MANAGER_CLASS = "app.security.CESecurityManager"
# The JWT login of FAB would bypass the captcha and the capacity choice: off.
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = False
# REST clients: a logged-in session gets a short-lived JWT from POST /api/v1/token/ (app/views/api_token.py).
CE_API_TOKEN_SECONDS = int(os.environ.get("CE_API_TOKEN_SECONDS", "1800"))
JWT_TOKEN_LOCATION = ["headers"]
FAB_UPDATE_PERMS = False
FAB_CREATE_DB = False
FAB_ROLES = {}
AUTH_TYPE = 1  # AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
AUTH_USER_REGISTRATION = False
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = "20 per 1 minute"
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
# Login POSTs per client address (applied by FAB's limiter to the login view; Redis via the URI above).
CE_LOGIN_RATE_LIMIT = os.environ.get("CE_LOGIN_RATE_LIMIT", "30 per minute")
# Brute force: this many failed logins lock the account for this many minutes.
CE_LOCKOUT_ATTEMPTS = 5
CE_LOCKOUT_MINUTES = 15
# Outgoing mail. MAIL_SERVER None = development: messages are written as .eml under instance/outbox/.
MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"
MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "noreply@ce.local")
# Password reset links are valid this many seconds.
CE_PASSWORD_RESET_MAX_AGE = 3600

# Chinese first; English switchable from the language menu.
BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
LANGUAGES = {
    "zh_Hans_CN": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "gb", "name": "English"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# None = follow CE_ENV (on in production): resolved when the app is built (app/settings.py).
SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE")
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SECURE = None
# Sessions end after this many idle minutes, and at the latest this many hours after the login.
CE_SESSION_IDLE_MINUTES = int(os.environ.get("CE_SESSION_IDLE_MINUTES", "30"))
CE_SESSION_MAX_HOURS = int(os.environ.get("CE_SESSION_MAX_HOURS", "12"))
# TOTP second factor required for the system administrator and province HR admins (None = on in production).
CE_TOTP_REQUIRED = _env_flag("CE_TOTP_REQUIRED")
# Security headers (Flask-Talisman): HSTS and the HTTP → HTTPS redirect follow CE_ENV unless set.
CE_FORCE_HTTPS = _env_flag("CE_FORCE_HTTPS")
CE_HSTS_SECONDS = int(os.environ.get("CE_HSTS_SECONDS", str(365 * 24 * 3600)))
# Redirect targets after login (next=) other than this site: none unless listed (comma-separated hosts).
FAB_SAFE_REDIRECT_HOSTS = [h.strip() for h in os.environ.get("CE_SAFE_REDIRECT_HOSTS", "").split(",") if h.strip()]
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None

# Flask-AppBuilder's raw user/role/permission pages (English tokens, internal role names): a developer's
# tool only, never routed unless this is set. Administrators use 用户管理 and 基础角色权限 instead.
CE_DEV_SECURITY_PAGES = os.environ.get("CE_DEV_SECURITY_PAGES", "0") == "1"

# List pages count at most this many rows and then show "N+".
CE_COUNT_CAP = 10000

# The address the public reaches (https://ce.example.gov.cn): links in mails and the certificates' QR
# codes are built from it, never from the request's Host header. Required in production (it also sets
# TRUSTED_HOSTS there); development falls back to http://127.0.0.1:8080 (app/services/public_urls.py).
CE_PUBLIC_BASE_URL = os.environ.get("CE_PUBLIC_BASE_URL") or None
# Production: further host names the app answers to besides CE_PUBLIC_BASE_URL's (comma-separated).
CE_TRUSTED_HOSTS = [h.strip() for h in os.environ.get("CE_TRUSTED_HOSTS", "").split(",") if h.strip()]
# The 2 + 2 digits of 省直 units in 证书管理号 (seed 001 shows a 省直 number 4119010013109).
CE_CERTIFICATE_DIRECT_DIGITS = os.environ.get("CE_CERTIFICATE_DIRECT_DIGITS", "1901")
# Rate limits of the anonymous pages (per client address; Flask-Limiter syntax).
CE_FORGOT_RATE_LIMIT = os.environ.get("CE_FORGOT_RATE_LIMIT", "5 per minute")
CE_PUBLIC_RATE_LIMIT = os.environ.get("CE_PUBLIC_RATE_LIMIT", "30 per minute")
# Captcha: length of the code; a test may set CE_CAPTCHA_TEXT_FACTORY (never set in production).
CE_CAPTCHA_LENGTH = 4
UPLOAD_FOLDER = os.path.join(INSTANCE_DIR, "uploads")
# One uploaded image at most (refused with a message next to the field) ...
CE_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
# ... and a whole request at most (five evidence images and the form): beyond it, 413.
MAX_CONTENT_LENGTH = 26 * 1024 * 1024
# Images with more pixels than this (read from the header, before decoding) are refused.
CE_UPLOAD_MAX_PIXELS = int(os.environ.get("CE_UPLOAD_MAX_PIXELS", str(25_000_000)))
