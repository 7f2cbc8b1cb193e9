"""Fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from facilities import create_app
from facilities.core.db import get_engine, make_engine
from facilities.core.migrate import upgrade
from facilities.extensions import limiter

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def skip_or_fail(reason: str) -> None:
    """Outside CI a missing browser or database skips; under CI=true it fails the run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)", pytrace=False)
    pytest.skip(reason)


# FACILITIES_TEST_CLOCK_SHIFT_DAYS=365 (or -365) runs the tests with the machine's clock
# moved that far, from the session's start (module fixtures too): a test that mixes a fixed
# date with the real clock then fails today, not on the day the calendar passes its date.
# Run it without tests/browser: Chromium keeps its own clock and drops cookies that the
# shifted server set to expire in its past.
CLOCK_SHIFT_DAYS = int(os.environ.get("FACILITIES_TEST_CLOCK_SHIFT_DAYS") or 0)


@pytest.fixture(scope="session", autouse=True)
def shifted_clock() -> Iterator[None]:
    if not CLOCK_SHIFT_DAYS:
        yield
        return
    destination = datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS)
    with time_machine.travel(destination, tick=True):
        yield


# The day the OCPI tests' bodies were written for: their `last_updated` times (late 2026)
# must not lie in the future, which the receiver refuses, whatever the machine's clock.
OPERATORS_DAY = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def operators_clock() -> Iterator[None]:
    with time_machine.travel(OPERATORS_DAY, tick=True):
        yield


def _postgres_url(raw: str):
    return make_url(raw).set(drivername="postgresql+psycopg")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> Iterator[dict]:
    """A migrated database to copy for each test, made once per run and removed after it."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        path = tmp_path_factory.mktemp("database") / "template.db"
        engine = make_engine(f"sqlite:///{path}", create=True)
        upgrade(engine)
        engine.dispose()
        yield {"backend": "sqlite", "path": path}
        return

    server_url = _postgres_url(raw)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {server_url.render_as_string()} is not reachable: {error}")
    run_id = uuid.uuid4().hex[:8]
    template = f"facilities_test_{run_id}_template"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    engine = make_engine(server_url.set(database=template).render_as_string(hide_password=False))
    upgrade(engine)
    engine.dispose()
    yield {
        "backend": "postgresql",
        "admin": admin,
        "server_url": server_url,
        "template": template,
        "run_id": run_id,
    }
    with admin.connect() as connection:
        leftovers = (
            connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": f"facilities_test_{run_id}_%"},
            )
            .scalars()
            .all()
        )
        for name in leftovers:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def template_copy(database_template, folder) -> Iterator[str]:
    """A copy of the migrated template (a file in `folder` on SQLite), dropped after."""
    if database_template["backend"] == "sqlite":
        path = folder / "test.db"
        shutil.copyfile(database_template["path"], path)
        yield f"sqlite:///{path}"
        return
    name = f"facilities_test_{database_template['run_id']}_{uuid.uuid4().hex[:8]}"
    admin = database_template["admin"]
    with admin.connect() as connection:
        connection.execute(
            text(f'CREATE DATABASE "{name}" TEMPLATE "{database_template["template"]}"')
        )
    yield database_template["server_url"].set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(database_template, tmp_path) -> Iterator[str]:
    """A fresh copy of the migrated template for one test."""
    with template_copy(database_template, tmp_path) as url:
        yield url


def _rate_limit_store() -> dict[str, str]:
    """With Redis and parallel workers (pytest-xdist), a Redis database per worker, so that
    one worker's reset never clears another's counters."""
    uri = os.environ.get("FACILITIES_RATELIMIT_STORAGE_URI", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1 …
    if not (uri.startswith("redis") and worker):
        return {}
    server = re.sub(r"/\d*$", "", uri)
    return {"ratelimit_storage_uri": f"{server}/{int(worker.removeprefix('gw')) + 1}"}


def make_test_app(database_url: str, **overrides):
    """An app for one test, its rate-limit counters starting from zero (also in Redis)."""
    app = create_app(
        {
            "env": "testing",
            "secret_key": TEST_SECRET,
            "database_url": database_url,
            # files a test uploads go to a folder of their own, never the project's instance/
            "upload_folder": tempfile.mkdtemp(prefix="facilities-uploads-"),
            **_rate_limit_store(),
            **overrides,
        }
    )
    with app.app_context():
        limiter.reset()
    return app


class IsolatedClient(FlaskClient):
    """Runs each request in fresh context variables, as a server does.

    Tests hold an app context for their own service calls (see `db`); without this,
    Flask would reuse it for the client's requests and share `g` between them.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database_url):
    app = make_test_app(database_url)
    app.test_client_class = IsolatedClient
    yield app
    get_engine(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """A session for arranging and checking data, in an app context as services expect."""
    from sqlmodel import Session

    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as session:
        yield session


@pytest.fixture
def signed_in(client, db):
    """Sign `client` in as a new user: `member = signed_in()`, `staff = signed_in(Role.staff)`."""
    from facilities.accounts.models import Role
    from tests import factories

    def sign(role: Role = Role.member, **fields):
        user = factories.user(db, role=role, **fields)
        db.commit()
        sign_in(client, user.email)
        return user

    return sign


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str | None = None) -> str:
    """The CSRF token a real browser would find in a page's form: by default the sign-in
    form for visitors (their pages have no other form) and the header's for users."""
    page = client.get(path or "/login", follow_redirects=path is None)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = "correct-horse-battery") -> None:
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@contextmanager
def count_queries(engine) -> Iterator[list[str]]:
    """Collect the SQL statements run on `engine` inside the block."""
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)
