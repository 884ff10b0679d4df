"""The front page and the health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from registry.extensions import db
from registry.main.services import registry_summary

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
def index():
    return render_template("main/index.html", summary=registry_summary())


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
