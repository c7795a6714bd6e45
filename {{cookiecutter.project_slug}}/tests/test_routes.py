"""Every route of the Flask server is guarded, including ones the app adds later."""

from conftest import HTML, sign_in

from auth import public, requires


def test_healthz_is_public(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_dash_internals_need_sign_in_when_no_page_is_public(app, client):
    import dash

    for page in dash.page_registry.values():
        if page["module"].endswith("home"):
            page["access"] = requires()
    for path in ["/_dash-layout", "/_dash-dependencies"]:
        assert client.get(path).status_code == 401, path
    assert client.get("/", headers=HTML).status_code == 302


def test_routes_added_later_need_sign_in_unless_public(app):
    server = app.server

    @server.route("/api/report")
    def report():
        return {"rows": 3}

    @server.route("/api/status")
    @public
    def status():
        return {"up": True}

    @server.route("/api/admin")
    @requires(one_of=["admin"])
    def admin_only():
        return {"secret": 42}

    client, alice, admin = (server.test_client() for _ in range(3))
    sign_in(alice, "alice")
    sign_in(admin, "admin")
    assert client.get("/api/report").status_code == 401
    assert alice.get("/api/report").json == {"rows": 3}
    assert client.get("/api/status").json == {"up": True}
    assert alice.get("/api/admin").status_code == 403
    assert admin.get("/api/admin").json == {"secret": 42}


def test_stylesheet_is_public_but_other_assets_need_sign_in(client):
    assert client.get("/assets/style.css").status_code == 200
    assert client.get("/assets/data.csv").status_code == 401
    assert client.get("/assets/../app.py").status_code in (401, 404)


def test_errors_are_plain_pages(app):
    @app.server.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    alice = app.server.test_client()
    sign_in(alice, "alice")
    response = alice.get("/boom", headers=HTML)
    assert response.status_code == 500
    assert "secret detail" not in response.text and "Traceback" not in response.text
    assert "Something went wrong" in response.text


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_json_answers_let_nothing_load_run_or_frame_them(alice):
    for response in (alice.get("/_dash-layout"), alice.get("/healthz")):
        assert response.mimetype == "application/json"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in alice.get("/", headers=HTML).headers["Content-Security-Policy"]


def test_signed_in_pages_are_not_stored_by_shared_caches(alice):
    response = alice.get("/_dash-layout")
    assert "private" in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]


def test_a_signed_in_answer_the_app_lets_be_cached_stays_with_its_user(app):
    @app.server.route("/api/cached")
    def cached():
        return {"total": 42}, 200, {"Cache-Control": "public, max-age=60"}

    alice = app.server.test_client()
    sign_in(alice, "alice")
    response = alice.get("/api/cached")
    assert response.headers["Cache-Control"] == "private, max-age=60"  # never in a shared cache
    assert response.headers["Vary"] == "Cookie"  # nor, from the browser's, to another cookie


def test_requires_and_public_apply_whichever_side_of_a_route_they_are_written(app):
    server = app.server

    @server.route("/api/admin-below")
    @requires(one_of=["admin"])
    def admin_below():
        return {"side": "below"}

    @requires(one_of=["admin"])
    @server.route("/api/admin-above")
    def admin_above():
        return {"side": "above"}

    @requires(one_of=["admin"])
    @app.server.route("/api/admin-above-app")
    def admin_above_app():
        return {"side": "above-app"}

    @public
    @server.route("/api/status-above")
    def status_above():
        return {"up": True}

    visitor, alice, admin = (server.test_client() for _ in range(3))
    sign_in(alice, "alice")
    sign_in(admin, "admin")
    for path, side in [
        ("/api/admin-below", "below"),
        ("/api/admin-above", "above"),
        ("/api/admin-above-app", "above-app"),
    ]:
        assert visitor.get(path).status_code == 401, path
        assert alice.get(path).status_code == 403, path
        assert admin.get(path).json == {"side": side}, path
    assert visitor.get("/api/status-above").json == {"up": True}
