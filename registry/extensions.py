"""Flask extensions, created unbound here and bound in ``create_app``."""
from flask_babel import Babel
from flask_caching import Cache
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from registry.database.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# The coverage report cache (registry.coverage.cache); the backend comes from CACHE_TYPE.
cache = Cache()


def _migrate():
    from flask_migrate import Migrate

    return Migrate(compare_type=True, render_as_batch=True)


def _limiter():
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    # No default limits: only the login doors are throttled (registry.security.login_limits).
    return Limiter(key_func=get_remote_address)


_LAZY = {"migrate": _migrate, "limiter": _limiter}


def __getattr__(name: str):
    """``migrate`` (Alembic) and ``limiter`` (Flask-Limiter) are built on first use: commands that run
    no migration never import Alembic, and those that serve no page (``create_app(web=False)``) never
    import the rate limiter.

    The API (flask-smorest, marshmallow) is :data:`registry.api.core.api`, imported only where pages
    and the API are served.
    """
    if name in _LAZY:
        globals()[name] = value = _LAZY[name]()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
