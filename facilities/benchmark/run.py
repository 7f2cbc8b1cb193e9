"""Serve the app under gunicorn as the Procfile does and load its pages with wrk.

Each page is measured beside a bare Flask page of the same size under the same gunicorn
in the same run, at 1,000 requests in the database and at N, and the results go to one
table, printed and written as Markdown.
"""

from __future__ import annotations

import gzip
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from facilities.benchmark import data

WORKERS = 2  # as the Procfile
STAFF = "huolto@digipolis.example"
TENANT_MEMBER = "aino.virtanen@arktinenanturi.example"
PASSWORD = "kemi-demo-2026"
# Signing in and loading pages as one browser: Flask-Login marks a session whose
# browser changed as not fresh, which would rewrite the cookie on every request.
USER_AGENT = "facilities-benchmark"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    who: str | None = None  # sign in as this user first


TARGETS = [
    Target("public roadmap", "/"),
    Target("public request page", "/requests/{reference}"),
    Target("changelog", "/changelog"),
    Target("Atom feed, all updates", "/feeds/updates.atom"),
    Target("staff queue", "/staff/queue", STAFF),
    Target("staff queue, text search", "/staff/queue?q=valaistus", STAFF),
    Target("staff dashboard", "/staff/dashboard", STAFF),
    Target("our requests", "/tenant/requests", TENANT_MEMBER),
    Target("sign-in page", "/login"),
    Target("charging page", "/charging"),
    Target("Open311 requests list", "/api/open311/v2/requests.json"),
    Target("Open311 open requests, XML", "/api/open311/v2/requests.xml?status=open&page_size=100"),
]


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Row:
    target: str
    requests_in_db: int
    size: int
    app: Load
    bare: Load
    worker_rss_mb: float

    @property
    def ratio(self) -> float:
        return self.app.requests_per_second / self.bare.requests_per_second


class BenchmarkError(RuntimeError):
    """Something the person running the benchmark must fix; one line, no traceback."""


# --- databases ---------------------------------------------------------------------------


def database_url_for(base_url: str | None, requests: int, folder: Path) -> str:
    """An SQLite file in `folder`, or a database of its own beside the one in DATABASE_URL."""
    if not base_url or base_url.startswith("sqlite"):
        return f"sqlite:///{folder / f'requests-{requests}.db'}"
    url = make_url(base_url.replace("postgres://", "postgresql://", 1))
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=f"{url.database}_bench_{requests}").render_as_string(
        hide_password=False
    )


def prepare_database(url: str, requests: int, *, rebuild: bool, say: Callable[[str], None]) -> None:
    """Make the database of `requests` requests, or keep the one made by an earlier run."""
    from facilities import create_app
    from facilities.core.db import get_engine, make_engine
    from facilities.core.migrate import upgrade

    if not rebuild and data.request_count(make_engine(url)) == requests:
        upgrade(make_engine(url))  # an earlier run's database, migrated to this code's schema
        say(f"  reusing {_display(url)} ({requests:,} requests)")
        return
    _drop_database(url)
    app = create_app({"env": "development", "database_url": url})
    engine = get_engine(app)
    upgrade(engine)
    started = time.monotonic()
    with app.app_context():  # the demo park is loaded through the app's own functions
        data.load(engine, requests)
    engine.dispose()
    say(f"  built {_display(url)}: {requests:,} requests in {time.monotonic() - started:.0f} s")


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()


def _display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# --- servers -----------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_rss_mb(self) -> float:
        """The largest resident set of the gunicorn workers, from /proc (Linux)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        largest = 0
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                largest = max(largest, int(match.group(1)))
        return largest / 1024


@contextmanager
def gunicorn(app: str, *, env: dict[str, str], log: Path, ready_path: str) -> Iterator[Server]:
    """gunicorn with the Procfile's options, on a free port, until the block ends."""
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--access-logfile",
        "-",
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(process, port)
    try:
        _wait_until_ready(server, ready_path, log)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_ready(server: Server, path: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"gunicorn stopped at start; see {log}")
        try:
            with urllib.request.urlopen(server.url(path), timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):  # refused, reset, or a slow first answer
            pass
        time.sleep(0.2)  # polling a starting process, not hiding a race
    raise BenchmarkError(f"gunicorn did not answer within 60 s; see {log}")


# --- signing in --------------------------------------------------------------------------


def session_cookie(app_overrides: dict[str, str], email: str) -> str:
    """A signed-in session cookie for `email`, made through the sign-in form in-process."""
    from facilities import create_app

    app = create_app(app_overrides)
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR="127.0.0.1")
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not match:
        raise BenchmarkError("the sign-in page has no CSRF token")
    response = client.post(
        "/login", data={"csrf_token": match.group(1), "email": email, "password": PASSWORD}
    )
    if response.status_code != 302:
        raise BenchmarkError(f"signing in as {email} failed ({response.status_code})")
    client.get(response.headers["Location"])  # shows and so clears the welcome message
    cookie = client.get_cookie("session")
    if cookie is None:
        raise BenchmarkError(f"no session cookie after signing in as {email}")
    return f"session={cookie.value}"


# --- loading -----------------------------------------------------------------------------


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, seconds: int, connections: int, cookie: str | None) -> Load:
    """One wrk run; fails when any answer is not 2xx or 3xx or a socket errs."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    command[1:1] = ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise BenchmarkError(f"wrk saw errors loading {url}:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if not (rate and p50 and p99):
        raise BenchmarkError(f"could not read wrk's output:\n{output}")
    return Load(
        requests_per_second=float(rate.group(1)),
        p50_ms=float(p50.group(1)) * UNITS[p50.group(2)],
        p99_ms=float(p99.group(1)) * UNITS[p99.group(2)],
    )


def fetch(url: str, *, cookie: str | None = None, compressed: bool = False) -> tuple[int, bytes]:
    """Status and body as sent over the wire (still compressed when asked to be)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if cookie:
        request.add_header("Cookie", cookie)
    if compressed:
        request.add_header("Accept-Encoding", "br, gzip")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def first_load_bytes(server: Server) -> int:
    """What a first visit to the roadmap transfers, compressed: the page and its assets."""
    status, body = fetch(server.url("/"), compressed=True)
    if status != 200:
        raise BenchmarkError(f"the roadmap answered {status}")
    total = len(body)
    try:
        html = gzip.decompress(body).decode()
    except OSError:  # not gzip: brotli or uncompressed
        html = _decode_any(body)
    for asset in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))):
        total += len(fetch(server.url(asset), compressed=True)[1])
    return total


def _decode_any(body: bytes) -> str:
    try:
        import brotli  # type: ignore[import-untyped]  # present with flask-compress

        return brotli.decompress(body).decode()
    except Exception:  # not brotli either: it came uncompressed
        return body.decode(errors="replace")


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    database_url: str | None
    sizes: tuple[int, ...]
    seconds: int
    warmup_seconds: int
    connections: int
    output: Path
    rebuild: bool
    pages: tuple[str, ...] = ()  # only targets whose name contains one of these
    page_cache: bool = True  # False: every page rendered afresh, to see what a miss costs

    def targets(self) -> list[Target]:
        if not self.pages:
            return TARGETS
        return [t for t in TARGETS if any(part in t.name for part in self.pages)]


def run(options: Options, say: Callable[[str], None]) -> Path:
    if shutil.which("wrk") is None:
        raise BenchmarkError("wrk is not installed: `sudo apt-get install wrk` (Debian, Ubuntu)")
    options.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    log = options.output / f"{stamp}-gunicorn.log"
    secret = secrets.token_urlsafe(48)
    rows: list[Row] = []
    first_loads: dict[int, int] = {}
    kind = "SQLite"
    with gunicorn(
        "facilities.benchmark.bare:create_bare_app()", env={}, log=log, ready_path="/bytes/10"
    ) as bare:
        for requests in options.sizes:
            url = database_url_for(options.database_url, requests, options.output)
            kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            say(f"{requests:,} requests on {kind}")
            prepare_database(url, requests, rebuild=options.rebuild, say=say)
            settings = {
                "FACILITIES_ENV": "production",
                "FACILITIES_SECRET_KEY": secret,
                "DATABASE_URL": url,
                # wrk reads from one address: the API's per-address limit would answer 429s
                "FACILITIES_API_READ_LIMIT": "100000000 per minute",
                **({} if options.page_cache else {"FACILITIES_CACHE_URL": "off"}),
            }
            with gunicorn(
                "facilities:create_app()", env=settings, log=log, ready_path="/healthz"
            ) as app:
                overrides = {"env": "production", "secret_key": secret, "database_url": url}
                cookies = {
                    who: session_cookie(overrides, who)
                    for who in {target.who for target in TARGETS if target.who}
                }
                reference = _a_public_reference(url)
                for target in options.targets():
                    rows.append(
                        _measure(target, app, bare, options, requests, cookies, reference, say)
                    )
                first_loads[requests] = first_load_bytes(app)
    table = markdown_table(rows, first_loads, options, kind)
    path = options.output / f"{stamp}-{kind.lower()}.md"
    path.write_text(table)
    say("")
    say(table)
    return path


def _a_public_reference(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        reference = connection.execute(
            text(
                "SELECT reference FROM service_request WHERE visibility = 'public' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    return reference


def _measure(
    target: Target,
    app: Server,
    bare: Server,
    options: Options,
    requests: int,
    cookies: dict[str, str],
    reference: str,
    say: Callable[[str], None],
) -> Row:
    url = app.url(target.path.format(reference=reference))
    cookie = cookies.get(target.who) if target.who else None
    status, body = fetch(url, cookie=cookie)
    if status != 200:
        raise BenchmarkError(f"{target.name} answered {status}, not 200: {url}")
    bare_url = bare.url(f"/bytes/{len(body)}")
    loads = {}
    for name, address, with_cookie in (("app", url, cookie), ("bare", bare_url, None)):
        if options.warmup_seconds:
            wrk(
                address,
                seconds=options.warmup_seconds,
                connections=options.connections,
                cookie=with_cookie,
            )
        loads[name] = wrk(
            address, seconds=options.seconds, connections=options.connections, cookie=with_cookie
        )
    row = Row(target.name, requests, len(body), loads["app"], loads["bare"], app.worker_rss_mb())
    say(
        f"  {target.name:<26} {row.app.requests_per_second:8.0f} req/s "
        f"p99 {row.app.p99_ms:6.1f} ms   bare {row.bare.requests_per_second:6.0f} req/s "
        f"= {row.ratio:.2f}×"
    )
    return row


def markdown_table(
    rows: list[Row], first_loads: dict[int, int], options: Options, kind: str
) -> str:
    smallest = {row.target: row for row in rows if row.requests_in_db == min(options.sizes)}
    lines = [
        f"# facilities benchmark: {kind}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"gunicorn with {WORKERS} sync workers as in the Procfile; wrk, 2 threads and "
        f"{options.connections} connections, {options.seconds} s per page after a "
        f"{options.warmup_seconds} s warm-up; *bare* is a bare Flask page of the same size "
        f"under the same gunicorn in the same run. {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Requests are sent without Accept-Encoding."
        + ("" if options.page_cache else " **Pages not kept** (`FACILITIES_CACHE_URL=off`)."),
        "",
        "| page | requests in DB | size | req/s | p50 | p99 | bare req/s | × bare "
        "| growth | worker RSS |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        base = smallest.get(row.target)
        growth = (
            f"{row.app.requests_per_second / base.app.requests_per_second:.2f}×"
            if base is not None and base is not row
            else ""
        )
        lines.append(
            f"| {row.target} | {row.requests_in_db:,} | {row.size / 1024:.1f} KB "
            f"| {row.app.requests_per_second:,.0f} | {row.app.p50_ms:.1f} ms "
            f"| {row.app.p99_ms:.1f} ms | {row.bare.requests_per_second:,.0f} "
            f"| {row.ratio:.2f}× | {growth} | {row.worker_rss_mb:.0f} MB |"
        )
    lines.append("")
    for requests, size in first_loads.items():
        lines.append(
            f"First load of the roadmap at {requests:,} requests: {size / 1024:.1f} KB "
            "transferred (page and assets, compressed as a browser asks)."
        )
    lines.append("")
    return "\n".join(lines)
