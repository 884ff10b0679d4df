"""The ``registry`` command."""
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.auth.models import User
from tests import factories


def test_users_create_reads_the_password_from_stdin(runner, session):
    result = runner.invoke(args=["users", "create", "Reg@Example.org", "--role", "regulator"],
                           input="correct horse battery staple\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "reg@example.org"))
    assert user.role == "regulator" and user.check_password("correct horse battery staple")
    assert not user.check_password("wrong")
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "users"))
    assert event.actor_label == "system" and "password" not in str(event.after)


def test_institution_user_needs_an_existing_institution(runner, session):
    result = runner.invoke(args=["users", "create", "a@example.org", "--role", "institution"],
                           input="a sufficiently long password\n")
    assert result.exit_code != 0 and "institution" in result.output
    holder = factories.institution()
    result = runner.invoke(args=["users", "create", "a@example.org", "--role", "institution",
                                 "--institution", holder.credit_code], input="a sufficiently long password\n")
    assert result.exit_code == 0, result.output
    assert session.scalar(sa.select(User.institution_id).where(User.email == "a@example.org")) == holder.id


def test_short_password_is_refused_and_nothing_is_written(runner, session):
    result = runner.invoke(args=["users", "create", "b@example.org", "--role", "admin"], input="short\n")
    assert result.exit_code != 0 and "12" in result.output
    assert session.scalar(sa.select(User).where(User.email == "b@example.org")) is None


def test_seed_is_idempotent(runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "regions +0" in result.output


def test_seed_demo_prints_the_demo_accounts_and_keeps_them_owner_readable(runner, app, tmp_path, monkeypatch):
    import stat
    from pathlib import Path

    monkeypatch.setitem(app.config, "REGISTRY_INSTANCE_DIR", str(tmp_path))
    # A file left readable by all (before accounts were kept owner-only) is tightened too.
    Path(tmp_path, "demo-accounts.txt").write_text("")
    Path(tmp_path, "demo-accounts.txt").chmod(0o644)
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "regulator@demo.invalid\tDemo-" in result.output
    kept = Path(tmp_path, "demo-accounts.txt")
    assert "regulator@demo.invalid\tDemo-" in kept.read_text(encoding="utf-8")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
