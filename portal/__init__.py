"""Firstfix: a self-service IT portal built around a searchable library of standard solutions."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import migrate
from portal.config import load_config
from portal.extensions import csrf, db, limiter, login_manager


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error handlers."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)
    _configure_logging(app)
    _configure_extensions(app)
    _configure_blueprints(app)
    _configure_templates(app)
    _configure_cli(app)
    _configure_errors(app)
    _configure_security(app)
    return app


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )


def _configure_extensions(app: Flask) -> None:
    from portal import search, transactions, writebehind
    from portal.accounts import models as _accounts  # noqa: F401  (register models)
    from portal.accounts import oidc
    from portal.accounts import throttle as _throttle  # noqa: F401  (limits' sqlite:// storage)
    from portal.admin import models as _admin  # noqa: F401
    from portal.analytics import models as _analytics  # noqa: F401
    from portal.articles import images as _article_images  # noqa: F401
    from portal.articles import models as _articles  # noqa: F401
    from portal.incidents import models as _incidents  # noqa: F401
    from portal.notifications import models as _notifications  # noqa: F401
    from portal.notifications import services as notifications
    from portal.search import models as _search  # noqa: F401

    # Before db: teardown functions run last-registered first, so the request's session is
    # gone (and with it any write lock it held) before queued writes are applied.
    writebehind.init_app(app)
    db.init_app(app)
    transactions.init_app(app)
    migrate.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    # Being signed in is a server-side row (portal.accounts.sessions), so Flask-Login's own
    # protection adds nothing we consult; its "basic" mode also rewrote an anonymous
    # browser's cookie on its first background request (a live suggestion), and that stale
    # cookie could land after the search page's and lose the searches an incident carries.
    login_manager.session_protection = None
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    oidc.init_app(app)
    search.init_app(app)
    notifications.init_app(app)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.session_interface = _SessionInterface()


class _SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def _configure_blueprints(app: Flask) -> None:
    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.admin.views import public_bp as branding_bp
    from portal.analytics.views import bp as reports_bp
    from portal.api import bp as api_bp
    from portal.articles.views import bp as articles_bp
    from portal.health import bp as health_bp
    from portal.incidents.views import bp as incidents_bp
    from portal.notifications.admin import bp as mail_admin_bp
    from portal.notifications.views import bp as notifications_bp

    app.register_blueprint(articles_bp)
    app.register_blueprint(incidents_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(branding_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(mail_admin_bp)
    csrf.exempt(api_bp)


def _configure_templates(app: Flask) -> None:
    from portal.templating import register

    register(app)


def _configure_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)


def _configure_errors(app: Flask) -> None:
    from portal.errors import register

    register(app)


def _configure_security(app: Flask) -> None:
    from portal.security import register

    register(app)
