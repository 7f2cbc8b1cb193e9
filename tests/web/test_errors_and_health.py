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
