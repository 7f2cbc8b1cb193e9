"""The `facilities` command: Flask's CLI plus db, users, the scheduler and the demo."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from pydantic import ValidationError

from facilities import create_app
from facilities.accounts.models import Role
from facilities.core.db import get_engine, session_scope
from facilities.core.errors import ValidationFailed
from facilities.park.models import Tenant
from facilities.settings import PROJECT_ROOT


def _create_app() -> Flask:
    """The app from the environment; a setting that is wrong is one clear line, not a traceback."""
    try:
        return create_app()
    except ValidationError as error:
        problems = "; ".join(
            str(detail["msg"]).removeprefix("Value error, ") for detail in error.errors()
        )
        raise click.ClickException(f"Settings: {problems}") from None


def _the_app() -> Flask:
    """The app behind `current_app`, to hand to threads and jobs."""
    return current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy


cli = FlaskGroup(
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    help="Requests, work queue and public roadmap for a technology park.",
)


@cli.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest); makes an SQLite file if need be."""
    from facilities.core.db import make_engine
    from facilities.core.migrate import upgrade
    from facilities.settings import get_settings

    url = get_settings().database_url_or_default(current_app.instance_path)
    engine = make_engine(url, create=True)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"Database at {revision}.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    from alembic import command

    from facilities.core.migrate import alembic_config

    command.revision(alembic_config(get_engine()), message=message, autogenerate=True)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION."""
    from facilities.core.migrate import downgrade

    downgrade(get_engine(), revision)
    click.echo(f"Database at {revision}.")


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.member.value)
@click.option("--tenant", "business_id", help="The company's business ID, for tenant roles.")
@click.option("--language", type=click.Choice(["fi", "en", "sv"]), default="fi")
@click.password_option(help="At least 10 characters; asked for when not given.")
def create_user_command(
    email: str, name: str, role: str, business_id: str | None, language: str, password: str
) -> None:
    """Create a user who signs in with e-mail and password."""
    from sqlmodel import select

    from facilities.accounts.users import create_user

    with session_scope(get_engine()) as session:
        tenant_id = None
        if business_id:
            tenant = session.exec(select(Tenant).where(Tenant.business_id == business_id)).first()
            if tenant is None:
                raise click.ClickException(f"No tenant with business ID {business_id}.")
            tenant_id = tenant.id
        try:
            user = create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=Role(role),
                tenant_id=tenant_id,
                preferred_language=language,
            )
        except ValidationFailed as failure:
            raise click.ClickException(_messages(failure)) from None
        session.commit()
        click.echo(f"Created {user.role.value} {user.email}.")


def _user_by_email(session, email: str):
    from sqlmodel import select

    from facilities.accounts.models import User
    from facilities.accounts.users import normalize_email

    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    return user


@cli.command("set-password")
@click.option("--email", required=True)
@click.password_option(help="At least 10 characters; asked for when not given.")
def set_password_command(email: str, password: str) -> None:
    """Set a user's password; every session of theirs ends."""
    from facilities.accounts.users import set_password

    with session_scope(get_engine()) as session:
        user = _user_by_email(session, email)
        try:
            set_password(session, user=user, password=password, actor=None)
        except ValidationFailed as failure:
            raise click.ClickException(_messages(failure)) from None
        session.commit()
        click.echo(f"Password set for {user.email}; their sessions have ended.")


@cli.command("deactivate-user")
@click.option("--email", required=True)
def deactivate_user_command(email: str) -> None:
    """Stop a user from signing in; every session of theirs ends now."""
    from facilities.accounts.users import deactivate_user

    with session_scope(get_engine()) as session:
        user = _user_by_email(session, email)
        deactivate_user(session, user=user, actor=None)
        session.commit()
        click.echo(f"{user.email} deactivated; their sessions have ended.")


def _messages(failure: ValidationFailed) -> str:
    return "; ".join(f"{field}: {message}" for field, message in failure.errors.items())


@cli.group("ocpi")
def ocpi_group() -> None:
    """Charge point operators that send us OCPI 2.2.1."""


@ocpi_group.command("add-party")
@click.option("--name", required=True, help="The operator's name.")
@click.option("--country", "country_code", required=True, help="OCPI country code, e.g. FI.")
@click.option("--party-id", required=True, help="OCPI party id, three characters.")
def ocpi_add_party_command(name: str, country_code: str, party_id: str) -> None:
    """Register an operator; prints its token A (shown only this once), which opens only
    our versions and credentials: it registers with it and gets the token for the rest."""
    from flask import url_for
    from sqlalchemy.exc import IntegrityError

    from facilities.charging.ocpi import OcpiError, add_party

    with session_scope(get_engine()) as session:
        try:
            party, token = add_party(
                session, name=name, country_code=country_code, party_id=party_id
            )
            session.commit()
        except OcpiError as error:
            raise click.ClickException(error.message) from None
        except IntegrityError:
            raise click.ClickException(
                f"An operator {country_code.upper()}/{party_id.upper()} is already registered."
            ) from None
    with current_app.test_request_context(
        base_url=current_app.extensions["facilities.settings"].base_url
    ):
        versions = url_for("ocpi.versions", _external=True)
    click.echo(f"Registered {party.name} ({party.country_code}/{party.party_id}).")
    click.echo(f"Versions URL: {versions}")
    click.echo(
        f"Token A (give it to the operator to register with; it is not shown again): {token}"
    )


@ocpi_group.command("connect")
@click.option("--name", required=True, help="The operator's name.")
@click.option("--versions-url", required=True, help="Their OCPI versions URL.")
@click.option(
    "--token-a",
    required=True,
    prompt="Token A",
    hide_input=True,
    help="The token they gave us for registering; asked for when not given.",
)
@click.option(
    "--pull/--no-pull",
    default=True,
    show_default=True,
    help="Pull their locations every minute; --no-pull if they push them to us.",
)
def ocpi_connect_command(name: str, versions_url: str, token_a: str, pull: bool) -> None:
    """Register with an operator from our side (the OCPI credentials handshake)."""
    from facilities.charging.client import OcpiClientError
    from facilities.charging.connect import VERSION, connect_operator, our_versions_url
    from facilities.settings import get_settings

    settings = get_settings()
    with session_scope(get_engine()) as session:
        try:
            party = connect_operator(
                session,
                name=name,
                versions_url=versions_url,
                token_a=token_a,
                base_url=settings.base_url,
                business_name=settings.park_name,
                pull=pull,
            )
        except OcpiClientError as error:
            raise click.ClickException(f"Not connected: {error.message}") from None
    click.echo(
        f"Connected to {party.name} ({party.country_code}/{party.party_id}), OCPI {VERSION}."
    )
    modules = ", ".join(f"{e['identifier']} ({e['role'] or '-'})" for e in party.endpoints)
    click.echo(f"Their endpoints: {modules}")
    click.echo(f"They call us at {our_versions_url(settings.base_url)}.")
    if pull:
        click.echo(
            "Their locations are pulled every minute by the scheduler (`facilities ocpi pull` now)."
        )
    else:
        click.echo("Their locations are not pulled: they push them to us.")


@ocpi_group.command("pull")
def ocpi_pull_command() -> None:
    """Pull locations now from the operators whose turn it is (recorded as a job run)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlmodel import col, select

    from facilities.charging.models import OcpiParty
    from facilities.core.jobs import run_job
    from facilities.core.scheduler import holder_name
    from facilities.schedule import JOBS_BY_ID
    from facilities.settings import get_settings

    job = JOBS_BY_ID["pull-ocpi-locations"]
    run = run_job(_the_app(), job, holder=holder_name())
    zone = ZoneInfo(get_settings().timezone)

    def local(moment: datetime | None) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment else "never"

    with session_scope(get_engine()) as session:
        parties = session.exec(
            select(OcpiParty)
            .where(
                col(OcpiParty.pull_enabled).is_(True),
                col(OcpiParty.registered).is_(True),
                col(OcpiParty.active).is_(True),
            )
            .order_by(col(OcpiParty.name))
        ).all()
    for party in parties:
        if party.pull_failures:
            state = (
                f"pulling failed ({party.pull_failures} in a row), next try at "
                f"{local(party.next_pull_at)}: {party.last_pull_error}"
            )
        else:
            state = f"pulled, last contact {local(party.last_contact_at)}" + (
                f"; {party.last_pull_error}" if party.last_pull_error else ""
            )
        click.echo(f"{party.name} ({party.country_code}/{party.party_id}): {state}")
    if not parties:
        click.echo("No operator is pulled: connect one with `facilities ocpi connect`.")
    click.echo(f"{job.id}: {run.outcome}, {run.items} locations stored")
    if run.outcome != "ok":
        sys.exit(1)


@cli.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs: what they are, how they last ran, and running one now."""


@jobs_group.command("list")
def jobs_list_command() -> None:
    """Every job: id, schedule, last run (park time) and its outcome."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import func
    from sqlmodel import col, select

    from facilities.core.models import JobRun
    from facilities.schedule import JOBS
    from facilities.settings import get_settings

    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    with session_scope(get_engine()) as session:
        latest = select(func.max(JobRun.id)).group_by(col(JobRun.job_id)).scalar_subquery()
        runs = {
            run.job_id: run
            for run in session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))
        }
    width = max(len(job.id) for job in JOBS)
    for job in JOBS:
        seconds = job.interval_seconds or settings.scheduler_interval_seconds
        run = runs.get(job.id)
        last = (
            f"{run.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S}  {run.outcome}, {run.items} items"
            if run
            else "never run"
        )
        click.echo(f"{job.id:<{width}}  every {seconds:>6} s  {last}")


@jobs_group.command("run")
@click.argument("job_id", metavar="NAME")
def jobs_run_command(job_id: str) -> None:
    """Run the job NAME now, once, recorded as a job run (ignores the scheduler's lease;
    jobs claim their rows, so nothing goes out twice)."""
    from facilities.core.jobs import run_job
    from facilities.core.scheduler import holder_name
    from facilities.schedule import JOBS_BY_ID

    job = JOBS_BY_ID.get(job_id)
    if job is None:
        raise click.ClickException(f"Unknown job {job_id}; jobs: {', '.join(JOBS_BY_ID)}")
    run = run_job(_the_app(), job, holder=holder_name())
    click.echo(f"{job.id}: {run.outcome}, {run.items} items")
    if run.outcome != "ok":
        click.echo(run.detail, err=True)
        sys.exit(1)


# The older spelling, kept for scripts that use it.
cli.add_command(jobs_run_command, "run-job")


@cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler process (one active; others stand by on the lease)."""
    from facilities.core.scheduler import build_scheduler, holder_name, release_lease
    from facilities.schedule import JOBS

    _quiet_logging()
    app = _the_app()
    holder = holder_name()
    scheduler = build_scheduler(app, JOBS, holder=holder)

    def stop(_signum: int, _frame: object) -> None:
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Scheduler {holder} starting.")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with session_scope(get_engine(app)) as session:
            release_lease(session, holder=holder)
            session.commit()
        click.echo("Scheduler stopped.")


def _quiet_logging() -> None:
    """Our own INFO lines (jobs, e-mails in the demo); APScheduler only when something is wrong."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the demo operator logs its own


def _demo_secret(instance: Path, name: str = "secret_key") -> str:
    """A secret of the demo (its secret key, its operator's token), made once and kept in
    instance/."""
    path = instance / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host: str, port: int) -> None:
    """Set up an SQLite demo in instance/ and serve web and scheduler in one process."""
    from werkzeug.serving import run_simple

    from facilities.core.migrate import upgrade
    from facilities.core.scheduler import build_scheduler, holder_name
    from facilities.core.storage import get_storage
    from facilities.demo import DEMO_SIGN_INS, load_demo_data
    from facilities.demo_charging import demo_operator_job
    from facilities.schedule import JOBS

    instance = PROJECT_ROOT / "instance"
    instance.mkdir(exist_ok=True)
    app = create_app(
        {
            "env": "development",
            "secret_key": _demo_secret(instance),
            "database_url": f"sqlite:///{instance / 'demo.db'}",
            "base_url": f"http://{host}:{port}",
        }
    )
    _quiet_logging()
    engine = get_engine(app)
    upgrade(engine)
    with app.app_context(), session_scope(engine) as session:
        operator_token = _demo_secret(instance, "demo_operator_token")
        loaded = load_demo_data(
            session,
            operator_token=operator_token,
            storage=get_storage(),
            api_key_file=instance / "demo_api_key",
        )
        session.commit()
    click.echo("Demo data loaded." if loaded else "Demo data was already there.")
    click.echo(
        f"\n  Open http://{host}:{port}\n\n  Demo sign-ins (password for all: "
        f"{DEMO_SIGN_INS[0].password}):"
    )
    for sign_in in DEMO_SIGN_INS:
        click.echo(f"    {sign_in.role:<13} {sign_in.email:<40} {sign_in.name}")
    if (instance / "demo_api_key").exists():
        click.echo(f"\n  The city's Open311 API key: {instance / 'demo_api_key'}")
    click.echo("")
    # Web and scheduler share this one process only here, for the newcomer's demo.
    # The demo's charge point operator pushes status changes to our OCPI receiver.
    operator = demo_operator_job(base_url=f"http://{host}:{port}", token=operator_token)
    scheduler = build_scheduler(app, (*JOBS, operator), holder=holder_name(), background=True)
    scheduler.start()
    os.environ.setdefault("FLASK_DEBUG", "0")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        scheduler.shutdown(wait=False)


@cli.command("benchmark", with_appcontext=False)
@click.option(
    "--requests",
    "requests",
    default=100_000,
    show_default=True,
    type=click.IntRange(1_000),
    help="Requests in the large database (the small one has 1,000).",
)
@click.option("--seconds", default=10, show_default=True, type=click.IntRange(1))
@click.option("--warmup", default=2, show_default=True, type=click.IntRange(0))
@click.option("--connections", default=16, show_default=True, type=click.IntRange(1))
@click.option(
    "--output",
    default=str(PROJECT_ROOT / "instance" / "benchmark"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--rebuild", is_flag=True, help="Build the databases again even if they exist.")
@click.option("--page", "pages", multiple=True, help="Only pages whose name contains this.")
@click.option("--skip-small", is_flag=True, help="Only the large database.")
@click.option(
    "--no-page-cache", is_flag=True, help="Render every page afresh, to see what a miss costs."
)
def benchmark_command(
    requests: int,
    seconds: int,
    warmup: int,
    connections: int,
    output: Path,
    rebuild: bool,
    pages: tuple[str, ...],
    skip_small: bool,
    no_page_cache: bool,
) -> None:
    """Load the pages under gunicorn with wrk at 1,000 and N requests, beside bare Flask.

    Uses SQLite files in OUTPUT, or databases of their own beside the PostgreSQL one
    in DATABASE_URL. Prints a Markdown table and writes it to OUTPUT.
    """
    from facilities.benchmark.run import BenchmarkError, Options, run

    options = Options(
        database_url=os.environ.get("DATABASE_URL"),
        sizes=(requests,) if skip_small else tuple(sorted({1_000, requests})),
        seconds=seconds,
        warmup_seconds=warmup,
        connections=connections,
        output=output,
        rebuild=rebuild,
        pages=pages,
        page_cache=not no_page_cache,
    )
    try:
        path = run(options, say=click.echo)
    except BenchmarkError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Written to {path}")


@cli.group("translations")
def translations_group() -> None:
    """Message catalogs (fi, en, sv) for developers."""


@translations_group.command("update", with_appcontext=False)
def translations_update() -> None:
    """Extract messages, merge them into the catalogs, fill English, compile."""
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po, write_po

    folder = PROJECT_ROOT / "facilities" / "translations"
    template = folder / "messages.pot"
    babel = CommandLineInterface()
    babel.run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(folder / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(template),
            "--no-location",
            "--sort-output",
            "--project",
            "facilities",
            str(PROJECT_ROOT),
        ]
    )
    babel.run(
        [
            "pybabel",
            "-q",
            "update",
            "-i",
            str(template),
            "-d",
            str(folder),
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ]
    )
    english = folder / "en" / "LC_MESSAGES" / "messages.po"
    with english.open("rb") as file:
        catalog = read_po(file, locale="en")
    for message in catalog:
        if isinstance(message.id, tuple) and not any(message.string or ()):
            message.string = message.id  # plurals: singular and plural, as in the source
        elif message.id and not message.string:
            message.string = message.id  # the source strings are English
    with english.open("wb") as file:
        write_po(file, catalog, omit_header=False, sort_output=True, no_location=True)
    babel.run(["pybabel", "-q", "compile", "-d", str(folder)])
    for locale in ("fi", "sv"):
        with (folder / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
            missing = [
                m.id
                for m in read_po(file)
                if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
            ]
        if missing:
            click.echo(f"{locale}: {len(missing)} messages to translate")


def main() -> None:
    cli(prog_name="facilities")
