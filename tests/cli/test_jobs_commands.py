"""`facilities jobs list` and `facilities jobs run NAME` (and the older `run-job`)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import col, select

from facilities.cli import cli
from facilities.core.models import JobRun
from facilities.schedule import JOBS
from tests.cli.test_commands import _env


def test_jobs_run_records_a_run_and_list_shows_it(database_url, db):
    env = _env(database_url)
    ran = CliRunner().invoke(cli, ["jobs", "run", "ask-if-fixed"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "ask-if-fixed: ok, 0 items" in ran.output
    again = CliRunner().invoke(cli, ["run-job", "ask-if-fixed"], env=env)  # the old spelling
    assert again.exit_code == 0, again.output
    runs = db.exec(select(JobRun).order_by(col(JobRun.id))).all()
    assert [(run.job_id, run.outcome) for run in runs] == [("ask-if-fixed", "ok")] * 2

    listed = CliRunner().invoke(cli, ["jobs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == len(JOBS)
    (line,) = [line for line in lines if line.startswith("ask-if-fixed ")]
    assert "every   3600 s" in line and "ok, 0 items" in line
    (never,) = [line for line in lines if line.startswith("apply-retention ")]
    assert "never run" in never


def test_jobs_run_refuses_an_unknown_job(database_url):
    result = CliRunner().invoke(cli, ["jobs", "run", "no-such-job"], env=_env(database_url))
    assert result.exit_code != 0
    assert "Unknown job no-such-job" in result.output and "send-outbox" in result.output
