from pathlib import Path

from portal import create_app


def test_secret_key_is_generated_once_and_kept_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SEARCH_INDEX_DIR": str(tmp_path)})
    key_file = Path(app.instance_path) / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text()
    again = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SEARCH_INDEX_DIR": str(tmp_path)})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_KB", "false")
    monkeypatch.setenv("PORTAL_SEARCH_PER_PAGE", "7")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["PUBLIC_KB"] is False and app.config["SEARCH_PER_PAGE"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
