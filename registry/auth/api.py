"""``/api/v1/auth``: tokens, one's own account; ``/api/v1/users``: accounts (admins)."""
from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_wtf.csrf import generate_csrf

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_admin
from registry.auth.queries import get_user, users_query
from registry.auth.schemas import (
    PasswordChangeSchema,
    PasswordResetSchema,
    TokenInfoSchema,
    TokenRequestSchema,
    TokenSchema,
    UserCreateSchema,
    UserQueryArgs,
    UserSchema,
    UserUpdateSchema,
)
from registry.auth.services import (
    authenticate,
    change_password,
    create_user,
    end_sessions,
    issue_token,
    reset_password,
    revoke_token,
    update_user,
    user_tokens,
)
from registry.security import login_limits

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="API tokens and one's own account")
users_bp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Accounts and roles (admins)")

# Reachable without credentials.
PUBLIC_ENDPOINTS = frozenset({"auth.issue_token"})


@bp.route("/tokens", methods=["POST"], endpoint="issue_token")
@bp.arguments(TokenRequestSchema)
@bp.response(201, TokenSchema)
@bp.doc(security=[])
@bp.problems(401, 429)
@login_limits
@bp.doc(operationId="issueToken")
def issue_token_view(data):
    """Exchange an email and password for a bearer token (throttled per account and address)"""
    user = authenticate(data["email"], data["password"], remote_addr=request.remote_addr)
    raw, token = issue_token(user, name=data.get("name"))
    return {"token": raw, "id": token.id, "name": token.name, "expires_at": token.expires_at}, 201


@bp.route("/tokens", methods=["GET"])
@bp.response(200, TokenInfoSchema(many=True))
@bp.paginate()
@bp.doc(operationId="listTokens")
def list_tokens(pagination_parameters):
    """List one's own tokens that still work"""
    return paginate(user_tokens(actor()), pagination_parameters)


@bp.route("/tokens/<id:token_id>", methods=["DELETE"])
@bp.response(204)
@bp.doc(operationId="revokeToken")
def revoke_token_view(token_id):
    """Revoke one of one's own tokens"""
    revoke_token(token_id, actor=actor())


@bp.route("/me")
@bp.response(200, UserSchema, headers={"X-CSRFToken": {
    "description": "With a cookie session only: send it back in X-CSRFToken on writes", "schema": {"type": "string"}}})
@bp.doc(operationId="getCurrentUser")
def me():
    """Who is signed in; a cookie session also gets its CSRF token in X-CSRFToken"""
    user = actor()
    return (user, {"X-CSRFToken": generate_csrf()}) if g.auth_method == "session" else user


@bp.route("/password", methods=["POST"])
@bp.arguments(PasswordChangeSchema)
@bp.response(204)
@bp.doc(operationId="changePassword")
def change_own_password(data):
    """Change one's password: every session and token ends, this one included"""
    user = actor()
    change_password(user, data["current_password"], data["new_password"], actor=user)


@bp.route("/sessions", methods=["DELETE"])
@bp.response(204)
@bp.doc(operationId="endSessions")
def end_all_sessions():
    """Sign out everywhere: every session and token of the caller ends"""
    end_sessions(actor())


@users_bp.route("")
class Users(MethodView):
    @allowed(ensure_admin)
    @users_bp.arguments(UserQueryArgs, location="query")
    @users_bp.response(200, UserSchema(many=True))
    @users_bp.paginate()
    @users_bp.doc(operationId="listUsers")
    def get(self, args, pagination_parameters):
        """List accounts"""
        return paginate(users_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_admin)
    @users_bp.arguments(UserCreateSchema)
    @users_bp.response(201, UserSchema)
    @users_bp.doc(operationId="createUser")
    def post(self, data):
        """Create an account"""
        return tagged(create_user(**data, actor=actor()), 201)


@users_bp.route("/<id:user_id>")
class UserItem(MethodView):
    @users_bp.response(200, UserSchema)
    @users_bp.problems(403)  # another's account, unless an admin asks
    @users_bp.doc(operationId="getUser")
    def get(self, user_id):
        """Read an account"""
        return tagged(get_user(user_id, actor=actor()))

    @allowed(ensure_admin)
    @users_bp.arguments(UserUpdateSchema)
    @users_bp.response(200, UserSchema)
    @users_bp.doc(parameters=[IF_MATCH])
    @users_bp.doc(operationId="updateUser")
    def patch(self, data, user_id):
        """Change an account's role, institution or name; disable or enable it"""
        user = get_user(user_id, actor=actor())
        return tagged(update_user(user, data, actor=actor(), expected_version=if_match()))


@users_bp.route("/<id:user_id>/password", methods=["POST"])
@allowed(ensure_admin)
@users_bp.arguments(PasswordResetSchema)
@users_bp.response(204)
@users_bp.doc(operationId="resetUserPassword")
def reset_user_password(data, user_id):
    """Set a new password for an account; its sessions and tokens end"""
    reset_password(get_user(user_id, actor=actor()), data["new_password"], actor=actor())


@users_bp.route("/<id:user_id>/history")
@allowed(ensure_admin)
@users_bp.response(200, AuditEventSchema(many=True))
@users_bp.paginate()
@users_bp.doc(operationId="getUserHistory")
def user_history(user_id, pagination_parameters):
    """The audit trail of one account"""
    return paginate(history_query(get_user(user_id, actor=actor())), pagination_parameters)
