"""The benchmark's own parts: its data, and reading wrk. (The benchmark itself is run
by hand, `facilities benchmark`; it is not a test.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from facilities.benchmark import data
from facilities.benchmark.run import (
    BenchmarkError,
    Load,
    Options,
    Row,
    database_url_for,
    markdown_table,
    wrk,
)
from facilities.core.db import get_engine
from facilities.park.models import Visibility
from facilities.requests.models import RequestUpdate, ServiceRequest, Status

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.21ms    1.02ms  20.00ms   80.00%
    Req/Sec     1.55k   100.00     1.80k    70.00%
  Latency Distribution
     50%    5.02ms
     75%    5.50ms
     90%    6.10ms
     99%  812.00us
  30911 requests in 10.01s, 800.00MB read
Requests/sec:   3088.12
Transfer/sec:     79.92MB
"""


def _fake_wrk(monkeypatch, output: str) -> None:
    def run(command, **_kwargs):
        return subprocess.CompletedProcess(command, 0, stdout=output, stderr="")

    monkeypatch.setattr(subprocess, "run", run)


def test_wrk_output_is_read_with_its_units(monkeypatch):
    _fake_wrk(monkeypatch, WRK_OUTPUT)
    load = wrk("http://127.0.0.1:8000/", seconds=10, connections=16, cookie=None)
    assert load == Load(requests_per_second=3088.12, p50_ms=5.02, p99_ms=0.812)


def test_a_run_with_failed_answers_is_refused(monkeypatch):
    _fake_wrk(
        monkeypatch,
        WRK_OUTPUT.replace("Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec"),
    )
    with pytest.raises(BenchmarkError, match="errors"):
        wrk("http://127.0.0.1:8000/", seconds=10, connections=16, cookie=None)


def test_the_table_shows_ratio_and_growth(tmp_path):
    options = Options(None, (1_000, 100_000), 10, 2, 16, tmp_path, False)
    rows = [
        Row("public roadmap", 1_000, 27_000, Load(3000, 5, 8), Load(6000, 2, 4), 104),
        Row("public roadmap", 100_000, 27_000, Load(2700, 5, 9), Load(5400, 2, 4), 106),
    ]
    table = markdown_table(rows, {100_000: 24_000}, options, "SQLite")
    assert (
        "| public roadmap | 100,000 | 26.4 KB | 2,700 | 5.0 ms | 9.0 ms | 5,400 | 0.50× | 0.90× | 106 MB |"
        in table
    )
    assert "23.4 KB transferred" in table


def test_databases_are_kept_apart_from_the_one_in_database_url(tmp_path):
    assert database_url_for(None, 1_000, tmp_path) == f"sqlite:///{tmp_path / 'requests-1000.db'}"
    url = database_url_for("postgres://postgres@127.0.0.1:5432/test", 100_000, Path("."))
    assert url == "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench_100000"


def test_the_park_has_years_of_history_mostly_done_mostly_public(app):
    engine = get_engine(app)
    with app.app_context():
        data.load(engine, 600, seed=7)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ServiceRequest)).one() == 600
        rows = session.exec(select(ServiceRequest, Status).join(Status)).all()
        public = sum(item.visibility == Visibility.public for item, _status in rows)
        closed = sum(status.kind in ("done", "declined", "duplicate") for _item, status in rows)
        years = {item.created_at.year for item, _status in rows}
        updates = session.exec(select(func.count()).select_from(RequestUpdate)).one()
    assert 0.6 < public / 600 < 0.8
    assert closed / 600 > 0.8
    assert len(years) >= 6
    assert 2 * 600 <= updates <= 3 * 600 + 14 * 3  # two or three each (and the demo's)
    references = {item.reference for item, _status in rows}
    assert len(references) == 600
