"""The JSON API under ``/api/v1``: authentication, feature blueprints, the reference docs.

Views live in each feature's ``api.py``; this package holds what they share
(:mod:`registry.api.core`, :mod:`registry.api.schemas`) and wires them up.
"""
from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import Flask, g, render_template, request
from flask_login import current_user

from registry.errors import Unauthenticated

docs_bp = FlaskBlueprint("api_docs", __name__, template_folder="templates")


@docs_bp.get("/api/docs")
def docs():
    """The interactive reference, served with the app's own assets (no CDN)."""
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    from registry.api.core import JSONProvider
    from registry.api.schemas import ID_CONVERTER_DOC, IdConverter
    from registry.extensions import api

    app.url_map.converters["id"] = IdConverter
    app.json = JSONProvider(app)  # refuses bodies nested too deeply
    app.json.ensure_ascii = False  # Chinese names stay readable in responses
    api.init_app(app)
    api.register_converter(IdConverter, lambda converter: dict(ID_CONVERTER_DOC))
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
    app.register_blueprint(docs_bp)
    app.before_request(_authenticate)


def _blueprints():
    from registry.applications.api import bp as applications
    from registry.applications.api import examiners_bp as examiners
    from registry.audit.api import bp as audit
    from registry.auth.api import bp as auth
    from registry.auth.api import users_bp as users
    from registry.catalog.api import bp as catalog
    from registry.coverage.api import bp as coverage
    from registry.imports.api import bp as imports
    from registry.indicators.api import bp as indicators
    from registry.indicators.api import plans_bp as plans
    from registry.indicators.api import targets_bp as targets
    from registry.indicators.api import values_bp as recorded_values
    from registry.institutions.api import bp as institutions
    from registry.personnel.api import bp as personnel
    from registry.reference.api import disciplines_bp as disciplines
    from registry.reference.api import regions_bp as regions
    from registry.regulations.api import bp as regulations
    from registry.standards.api import bp as standards

    return [auth, users, institutions, standards, catalog, regulations, personnel, indicators, plans, targets,
            recorded_values, regions, disciplines, audit, coverage, imports, applications, examiners]


def _authenticate() -> None:
    """Set ``g.api_user`` from a bearer token, else from the session cookie.

    A bearer token that does not work is refused outright (401) rather than
    falling back to the cookie, so a script never acts with a browser's rights.
    """
    if not request.path.startswith("/api/v1/"):
        return
    from registry.auth.api import PUBLIC_ENDPOINTS
    from registry.auth.services import user_for_token
    from registry.security import bearer_token

    g.api_user = g.auth_method = None
    raw = bearer_token()
    if raw is not None:
        user = user_for_token(raw)
        if user is None:
            raise Unauthenticated("令牌无效、已过期或已撤销 / the token is invalid, expired or revoked")
        g.api_user, g.auth_method = user, "token"
    elif current_user.is_authenticated:
        g.api_user, g.auth_method = current_user._get_current_object(), "session"
    elif request.endpoint is not None and request.endpoint not in PUBLIC_ENDPOINTS and request.method != "OPTIONS":
        raise Unauthenticated("需要登录或 API 令牌 / authentication required (Bearer token or session)")
