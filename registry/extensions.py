"""Flask extensions, created unbound here and bound in ``create_app``."""
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from registry.api.core import Api
from registry.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
api = Api()
csrf = CSRFProtect()
babel = Babel()
# No default limits: only the login doors are throttled (registry.security.login_limits).
limiter = Limiter(key_func=get_remote_address)
# The coverage report cache (registry.coverage.cache); the backend comes from CACHE_TYPE.
cache = Cache()
