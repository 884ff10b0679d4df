"""Accounts: admins, regulators and institution users."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from registry.database.base import TimestampMixin, UTCDateTime, VersionedMixin, enum_column, utcnow
from registry.extensions import db
from registry.institutions.models import Institution

ROLES = ("admin", "regulator", "institution")


class User(UserMixin, TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'institution') = (institution_id IS NOT NULL)", name="institution_role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(enum_column(ROLES, "user_role"))
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Bumped on logout, password change or deactivation: every session and
    # token issued under an older epoch stops working.
    session_epoch: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution | None] = relationship()

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:  # flask-login: the epoch ends old sessions
        return f"{self.id}:{self.session_epoch}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for scripts; only its SHA-256 hash is stored.

    ``session_epoch`` is the user's epoch at issue: bumping the user's epoch
    (logout everywhere, password change, deactivation) ends the token too.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_epoch: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_valid(self, now: datetime) -> bool:
        return (self.revoked_at is None and now < self.expires_at and self.user.active
                and self.session_epoch == self.user.session_epoch)
