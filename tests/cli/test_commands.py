from click.testing import CliRunner
from sqlalchemy import inspect
from sqlmodel import Session, select

from facilities.accounts.models import Role, User
from facilities.cli import cli
from facilities.core.db import make_engine
from facilities.demo import load_demo_data
from facilities.requests.models import ServiceRequest, Status
from facilities.requests.workflow import StatusKind
from tests import factories
from tests.conftest import TEST_SECRET


def _env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "FACILITIES_SECRET_KEY": TEST_SECRET, "FACILITIES_ENV": "testing"}


def test_db_upgrade_creates_the_schema_and_default_statuses(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=_env(url))
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    assert {"service_request", "request_update", "audit_event", "job_run"} <= set(
        inspect(engine).get_table_names()
    )
    with Session(engine) as session:
        kinds = {status.kind for status in session.exec(select(Status)).all()}
    engine.dispose()
    assert kinds == set(StatusKind)


def test_app_refuses_to_start_in_production_without_a_secret(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["db", "upgrade"],
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "FACILITIES_SECRET_KEY": "",
            "FACILITIES_ENV": "production",
        },
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: Settings: FACILITIES_SECRET_KEY is not set.")
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1


def test_create_user_refuses_a_list_of_addresses(database_url):
    result = CliRunner().invoke(
        cli,
        ["create-user", "--email", "x,evil@example.org", "--name", "X", "--role", "staff"],
        input="a long enough password\na long enough password\n",
        env=_env(database_url),
    )
    assert result.exit_code == 1
    assert "email:" in result.output


def test_set_password_and_deactivate_from_the_command_line(database_url, db):
    staff = factories.staff(db)
    db.commit()
    env = _env(database_url)
    result = CliRunner().invoke(
        cli, ["set-password", "--email", staff.email, "--password", "new password here"], env=env
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["deactivate-user", "--email", staff.email.upper()], env=env)
    assert result.exit_code == 0, result.output
    db.expire_all()
    saved = db.get(User, staff.id)
    assert saved.active is False
    unknown = CliRunner().invoke(cli, ["deactivate-user", "--email", "no@example.com"], env=env)
    assert unknown.exit_code == 1 and "No user" in unknown.output


def test_create_user_for_a_tenant(database_url, db):
    tenant = factories.tenant(db)
    db.commit()
    result = CliRunner().invoke(
        cli,
        [
            "create-user",
            "--email",
            "Aino@Example.com",
            "--name",
            "Aino",
            "--role",
            "member",
            "--tenant",
            tenant.business_id,
            "--password",
            "long-enough-password",
        ],
        env=_env(database_url),
    )
    assert result.exit_code == 0, result.output
    created = db.exec(select(User).where(User.email == "aino@example.com")).one()
    assert created.role == Role.member and created.tenant_id == tenant.id


def test_create_user_explains_bad_input(database_url):
    result = CliRunner().invoke(
        cli,
        [
            "create-user",
            "--email",
            "not-an-address",
            "--name",
            "X",
            "--role",
            "staff",
            "--password",
            "short",
        ],
        env=_env(database_url),
    )
    assert result.exit_code != 0 and "email" in result.output and "password" in result.output


def test_demo_data_loads_once_with_requests_in_every_status(db):
    assert load_demo_data(db) is True
    db.commit()
    assert load_demo_data(db) is False
    requests = db.exec(select(ServiceRequest)).all()
    assert {item.status.kind for item in requests} == set(StatusKind)
    first = db.exec(select(ServiceRequest).where(ServiceRequest.ref_number == 1)).one()
    assert "Sensori" in first.title


def test_an_ocpi_operator_is_registered_with_a_token_shown_once(database_url, app, client):
    import base64
    import re

    args = [
        "ocpi",
        "add-party",
        "--name",
        "Kemin Lataus Oy",
        "--country",
        "fi",
        "--party-id",
        "klo",
    ]
    result = CliRunner().invoke(cli, args, env=_env(database_url))
    assert result.exit_code == 0, result.output
    assert "/ocpi/versions" in result.output
    token = re.search(r"not shown again\): (\S+)", result.output).group(1)
    header = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    assert client.get("/ocpi/versions", headers=header).status_code == 200

    again = CliRunner().invoke(cli, args, env=_env(database_url))
    assert again.exit_code != 0 and "already registered" in again.output
    bad = CliRunner().invoke(
        cli,
        ["ocpi", "add-party", "--name", "X", "--country", "FIN", "--party-id", "KLO"],
        env=_env(database_url),
    )
    assert bad.exit_code != 0 and "country_code must be 2" in bad.output
