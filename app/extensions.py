"""Extension objects, created unbound and initialised in ``create_app`` (Flask's factory pattern).

FAB's ``AppBuilder`` keeps per-app state (views, menu), so ``create_app`` makes one per app;
reach it through ``current_app.appbuilder``.
"""

from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
migrate = Migrate()
csrf = CSRFProtect()
