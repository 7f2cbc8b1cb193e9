from tests.conftest import make_test_app


def test_not_found_is_html_for_browsers_and_json_for_clients(client):
    html = client.get("/no/such/page")
    data = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert html.status_code == data.status_code == 404
    assert "<html" in html.get_data(as_text=True)
    assert data.get_json()["error"] == 404


def test_method_not_allowed(client):
    response = client.delete("/")
    assert response.status_code == 405 and "<html" in response.get_data(as_text=True)


def test_unknown_request_reference_is_404(client):
    assert client.get("/requests/DP-2026-9999").status_code == 404


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["database"] == "ok"


def test_health_is_503_when_the_database_does_not_answer(tmp_path):
    broken = make_test_app(f"sqlite:///{tmp_path}/missing-folder/x.db")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"


def test_server_errors_render_the_error_page(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("boom")

    explode.allowed_roles = "everyone"
    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500 and "<html" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_health_is_503_while_the_schema_is_behind_the_code(app, client, db):
    from sqlalchemy import text

    db.exec(text("UPDATE alembic_version SET version_num = '0002'"))
    db.commit()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "schema": "behind"}


def test_health_is_503_for_a_database_that_was_never_migrated(tmp_path):
    from facilities.core.db import make_engine

    empty = make_engine(f"sqlite:///{tmp_path}/empty.db", create=True)
    with empty.connect():
        pass  # makes the file, with no tables
    empty.dispose()
    response = make_test_app(f"sqlite:///{tmp_path}/empty.db").test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["schema"] == "missing"


def test_a_missing_sqlite_file_is_not_created_outside_development(tmp_path):
    path = tmp_path / "forgotten.db"
    app = make_test_app(f"sqlite:///{path}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    page = client.get("/")
    assert page.status_code == 503 and "<html" in page.get_data(as_text=True)
    assert not path.exists()


def _take_the_database_down(app):
    from facilities.core.db import ENGINE_KEY, make_engine

    app.extensions[ENGINE_KEY].dispose()
    # Nothing listens on port 1: every connection is refused, as when the server is down.
    app.extensions[ENGINE_KEY] = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone")


def test_database_outage_gives_the_styled_503_page_even_to_signed_in_users(app, client, db):
    from tests import factories
    from tests.conftest import csrf_token, sign_in

    staff = factories.staff(db)
    item = factories.service_request(db)
    db.commit()
    sign_in(client, staff.email)
    token = csrf_token(client, "/staff/queue")
    _take_the_database_down(app)

    queue = client.get("/staff/queue")
    triage = client.post(f"/staff/requests/{item.reference}/triage", data={"csrf_token": token})
    roadmap = client.get("/")
    as_json = client.get("/", headers={"Accept": "application/json"})

    for response in (queue, triage, roadmap):
        html = response.get_data(as_text=True)
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert '<link rel="stylesheet"' in html and "Palvelu ei ole käytettävissä" in html
    assert as_json.status_code == 503 and as_json.get_json()["error"] == 503
