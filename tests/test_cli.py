"""The ``registry`` command."""
import pytest
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
    assert result.exit_code != 0 and "机构用户须指定所属机构" in result.output  # one language: Chinese by default
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
    assert "参考数据：地区 +0，" in result.output


def test_seed_demo_prints_the_demo_accounts_and_keeps_them_owner_readable(runner, app, tmp_path, monkeypatch):
    import stat
    from pathlib import Path

    from registry.cli import demo_accounts_path

    monkeypatch.setitem(app.config, "REGISTRY_INSTANCE_DIR", str(tmp_path))
    kept = demo_accounts_path(app)
    assert kept.parent == tmp_path and kept.name.startswith("demo-accounts-") and kept.suffix == ".txt"
    # A file left readable by all (before accounts were kept owner-only) is tightened too.
    kept.write_text("")
    kept.chmod(0o644)
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert "regulator@demo.invalid\tDemo-" in result.output
    assert "regulator@demo.invalid\tDemo-" in kept.read_text(encoding="utf-8")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # Seeding again prints the same accounts (from the file) as set-up's last lines.
    again = runner.invoke(args=["seed", "--demo"])
    assert again.exit_code == 0, again.output
    tail = again.output.strip().splitlines()[-3:]
    assert [line.split("\t")[0].strip() for line in tail] == \
        [line.split("\t")[0] for line in kept.read_text(encoding="utf-8").splitlines()]
    assert not Path(tmp_path, "demo-accounts.txt").exists()


@pytest.mark.parametrize("url, name", [
    ("sqlite:////srv/registry/instance/registry.db", "demo-accounts-registry.txt"),
    ("sqlite:////tmp/other.sqlite3", "demo-accounts-other.txt"),
    ("postgresql+psycopg://registry@127.0.0.1:5432/registry_test", "demo-accounts-registry_test.txt"),
    ("postgresql+psycopg://registry@db.example/metrology", "demo-accounts-metrology.txt"),
    ("sqlite://", "demo-accounts-memory.txt"),
])
def test_each_database_keeps_its_demo_accounts_in_its_own_file(app, monkeypatch, tmp_path, url, name):
    from registry.cli import demo_accounts_path

    monkeypatch.setitem(app.config, "REGISTRY_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", url)
    assert demo_accounts_path(app) == tmp_path / name


from tests.one_language import mixed_lines


def _has_cjk(text: str) -> bool:
    import re

    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_cli_speaks_one_language(runner, app, session, monkeypatch, language):
    """A service's "中文 / English" message and the CLI's own lines come out in one language (REGISTRY_LANG)."""
    monkeypatch.setitem(app.config, "IMPORT_LANGUAGE", language)
    refused = runner.invoke(args=["users", "create", "c@example.org", "--role", "admin"], input="short\n")
    created = runner.invoke(args=["users", "create", "d@example.org", "--role", "admin"],
                            input="a sufficiently long password\n")
    seeded = runner.invoke(args=["seed"])
    assert refused.exit_code != 0 and created.exit_code == 0 and seeded.exit_code == 0
    for result in (refused, created, seeded):
        assert " / " not in result.output, result.output
        assert mixed_lines(result.output) == [], result.output
        if language == "zh":
            assert _has_cjk(result.output), result.output
        else:
            assert not _has_cjk(result.output), result.output
    assert ("已创建 d@example.org" if language == "zh" else "created d@example.org") in created.output
    assert ("参考数据：地区 +0，相邻地区 +0" if language == "zh" else "reference data: regions +0, region adjacencies +0") \
        in seeded.output


def test_registry_lang_option_outranks_the_environment(app, monkeypatch):
    from registry import cli

    monkeypatch.setitem(app.config, "IMPORT_LANGUAGE", "zh")
    with app.app_context():
        assert cli.language() == "zh" and cli.one_language("不能为空 / required") == "不能为空"
        monkeypatch.setattr(cli, "_language", "en")  # what ``registry --lang en`` sets
        assert cli.language() == "en" and cli.one_language("不能为空 / required") == "required"
        assert cli.say("中文", "English") == "English"
    assert any(param.name == "lang" for param in cli.main.params)
