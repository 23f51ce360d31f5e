"""Links in mails point where people reach the portal: by default where `make run` serves
(HOST, PORT), else PUBLIC_URL."""

from __future__ import annotations

from portal import create_app
from portal.config import default_public_url
from tests.conftest import _config


def test_links_follow_make_runs_host_and_port(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "5101")
    config = _config(database_url, tmp_path)
    app = create_app(config)
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:5101"

    monkeypatch.setenv("PORTAL_PUBLIC_URL", "https://help.example.com")
    assert create_app(config).config["PUBLIC_URL"] == "https://help.example.com"


def test_without_host_and_port_links_use_the_default_address(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert create_app(_config(database_url, tmp_path)).config["PUBLIC_URL"] == (
        "http://127.0.0.1:5000"
    )


def test_a_server_listening_everywhere_is_named_by_the_machine(monkeypatch):
    monkeypatch.setattr("portal.config.socket.getfqdn", lambda: "desk.example.com")
    assert default_public_url("0.0.0.0", "8000") == "http://desk.example.com:8000"
    assert default_public_url("::1", "80") == "http://[::1]"
