"""Every configuration key with its default, and how configuration is loaded.

Order: these defaults, then ``instance/config.py`` if present, then ``PORTAL_*``
environment variables, then ``DATABASE_URL``, then the test dict.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Any

from flask import Flask

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # Security
    "SECRET_KEY": None,  # generated once and kept in instance/secret_key when not set
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # also Secure whenever the request came over HTTPS
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,
    # Sign-in attempts per address (all of them), and failed ones per account (a browser that
    # signed in to that account before is exempt, so its owner is never locked out).
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "LOGIN_ACCOUNT_RATE_LIMIT": "5 per minute;20 per hour",
    "PASSWORD_RESET_RATE_LIMIT": "5 per 15 minutes;20 per day",  # per address and per account
    # None: a file in the instance folder that every worker of this node shares;
    # redis://host:6379 shares the counts between nodes.
    "RATELIMIT_STORAGE_URI": None,
    # Sessions live on the server (portal.accounts.sessions): they end after this long without
    # a request, and in any case this long after signing in.
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_MAX_HOURS": 7 * 24,
    "PASSWORD_RESET_MINUTES": 60,  # how long a mailed reset link works (once)
    "PASSWORD_MIN_LENGTH": 10,
    # Single sign-on with OpenID Connect: off while OIDC_ISSUER is empty.
    "OIDC_ISSUER": None,  # e.g. https://login.microsoftonline.com/<tenant>/v2.0
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_SCOPES": "openid email profile",
    "OIDC_BUTTON_LABEL": "Sign in with your company account",
    "OIDC_ROLES_CLAIM": "groups",  # a claim holding a list of groups (or role names)
    "OIDC_ROLE_MAP": {},  # {"it-servicedesk": "agent", "kb-editors": "editor"}
    "OIDC_TIMEOUT": 5,  # seconds per request to the provider
    # LDAP / Active Directory: off while LDAP_URL is empty.
    "LDAP_URL": None,  # ldap://dc1.example.com:389 or ldaps://dc1.example.com:636
    "LDAP_START_TLS": False,  # upgrade an ldap:// connection with StartTLS
    "LDAP_CA_FILE": None,  # PEM file of the CA that signed the server's certificate
    "LDAP_BIND_DN": None,  # the service account that searches for users
    "LDAP_BIND_PASSWORD": None,
    "LDAP_USER_BASE": None,  # e.g. ou=people,dc=example,dc=com
    "LDAP_USER_FILTER": "(|(mail={login})(sAMAccountName={login}))",
    "LDAP_EMAIL_ATTRIBUTE": "mail",
    "LDAP_NAME_ATTRIBUTE": "displayName",
    # Groups: the user's memberOf values (Active Directory), or, when LDAP_GROUP_BASE is set,
    # the groups found there by LDAP_GROUP_FILTER ({dn} is the user's entry, escaped).
    "LDAP_GROUP_BASE": None,
    "LDAP_GROUP_FILTER": "(member={dn})",
    "LDAP_ROLE_MAP": {},  # group DN or CN -> role: {"it-servicedesk": "agent"}
    "LDAP_TIMEOUT": 5,
    "RATELIMIT_ENABLED": True,
    "PROXY_FIX": False,  # trust X-Forwarded-* from one proxy (behind a load balancer)
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # a request body; attachments are 10 MB each
    # Data
    "SQLALCHEMY_DATABASE_URI": None,  # sqlite in instance/ when not set
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # SQLite: how long a writer waits for the one write lock before giving up (seconds)
    "SQLITE_BUSY_TIMEOUT": 15,
    # Search events and view counts are written by a background thread at least this often
    # (seconds); 0 writes them at the end of each request instead.
    "WRITEBEHIND_INTERVAL": 1.0,
    # Knowledge base
    "PUBLIC_KB": True,  # search and public articles readable without signing in
    # Seconds between the agents' queue page asking for fresh rows and count (0: never).
    "QUEUE_REFRESH_SECONDS": 30,
    "ARTICLES_DIR": str(REPO_ROOT / "articles"),
    # Search
    "SEARCH_INDEX_DIR": None,  # instance/search-index when not set
    "SEARCH_PER_PAGE": 10,
    "SEARCH_SYNC_INTERVAL": 0.5,  # seconds between checks of the outbox for other writers' changes
    # Ranking (measured on bench/relevance.py): how many lexical candidates and nearest
    # neighbours in meaning get the mixed score, the weight of meaning in the mix, the
    # cosine that makes an article a match on meaning alone, and the "might be related" list.
    # Semantic search (all-MiniLM-L6-v2 beside Whoosh); lexical only when off or missing.
    # Its cosines spread wider than e5-small's (unrelated texts near 0, not near 0.75).
    "SEARCH_SEMANTIC": True,
    "SEARCH_SEMANTIC_THREADS": 1,
    "SEARCH_SEMANTIC_AHEAD": True,  # embed the query while the words are read (off: in turn)
    "SEARCH_MODEL_DIR": None,  # the derived model file; instance/models when not set
    "SEARCH_POOL": 100,
    "SEARCH_SEMANTIC_POOL": 20,
    "SEARCH_SEMANTIC_WEIGHT": 0.5,
    "SEARCH_SEMANTIC_MATCH": 0.45,  # a match on meaning alone
    "SEARCH_SEMANTIC_PARTIAL": 0.30,  # a match on most of the words needs this much meaning
    "SEARCH_SEMANTIC_FLOOR": 0.15,  # ... on all of them, this much
    "SEARCH_SEMANTIC_RELATED": 0.35,  # "might be related"
    # Two incident titles on meaning alone: the closest two starter titles on different
    # problems reach 0.70 ("Internet or connection is slow", "Laptop ... is slow or freezes")
    "SEARCH_SIMILAR_MATCH": 0.71,
    "SEARCH_RELATED": 3,
    # cosine between two articles shown as related: a starter article's fifth nearest is
    # 0.42 (median), its first 0.57
    "SEARCH_RELATED_ARTICLE_MIN": 0.42,
    "SEARCH_CACHE_SIZE": 512,  # answers to repeated queries kept per process
    "SEARCH_CACHE_SECONDS": 60,  # how long a cached answer may be reused
    # Seconds a search waits for the rebuild of a missing or damaged index before the
    # database answers it instead (with a notice); the rebuild goes on in the background.
    "SEARCH_HEAL_WAIT": 2.0,
    # Processes for `flask search reindex` (whoosh writes one segment per process); a rebuild
    # started inside a web worker, for a missing index, always uses one.
    "SEARCH_BUILD_PROCS": min(4, os.cpu_count() or 1),
    # First admin (make run)
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": None,  # generated and printed once when not set
    # Portal
    "PORTAL_NAME": "Firstfix",
    "LANGUAGE": "en",  # the language pages and mail are written in (<html lang>)
    "TIMEZONE": "UTC",
    # Base of the links in mails (no request to ask); unset, it follows where `make run`
    # serves: http://$HOST:$PORT, or http://127.0.0.1:5000.
    "PUBLIC_URL": None,
    # Mail (the outbox in portal/notifications; `flask mail send` retries what is due)
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS after connecting
    "MAIL_USE_SSL": False,  # TLS from the first byte (usually port 465)
    "MAIL_USERNAME": None,  # log in only when set
    "MAIL_PASSWORD": None,
    "MAIL_FROM": "Firstfix <servicedesk@example.com>",
    "MAIL_TIMEOUT": 5,  # seconds for each network operation
    # How long a sender holds a message it claimed: one killed mid-send leaves its claim
    # behind, and the message goes again once it runs out (longer than any send takes).
    "MAIL_CLAIM_SECONDS": 600,
    "MAIL_MAX_ATTEMPTS": 10,  # then the message stays in the outbox, unsent, for a person to see
    "MAIL_SEND_AFTER_COMMIT": True,  # send from a background thread right after each commit
    "MAIL_CA_FILE": None,  # CA certificates to trust for SMTP and IMAP TLS (else the system's)
    # Mail in: the desk's mailbox, polled by `flask worker` (off while MAIL_IMAP_SERVER is unset)
    "MAIL_DESK_ADDRESS": None,  # the address people write to (else MAIL_FROM's)
    "MAIL_IMAP_SERVER": None,
    "MAIL_IMAP_PORT": 993,
    "MAIL_IMAP_SECURITY": "ssl",  # ssl (IMAPS) | starttls | none (loopback tests only)
    "MAIL_IMAP_USERNAME": None,
    "MAIL_IMAP_PASSWORD": None,
    "MAIL_IMAP_FOLDER": "INBOX",
    "MAIL_POLL_INTERVAL": 60,  # seconds between mailbox checks
    # Honour only Authentication-Results written by this server (RFC 8601 authserv-id);
    # unset: the topmost such header, which the last server added.
    "MAIL_AUTHSERV_ID": None,
    # The background worker (`flask worker`): seconds between rounds of each job
    "WORKER_SEND_INTERVAL": 15,
    "WORKER_SLA_INTERVAL": 60,
    "WORKER_AUTOCLOSE_INTERVAL": 3600,
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config in the documented order."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    if test_config:
        app.config.from_mapping(test_config)
    _fill_derived(app)


def _fill_derived(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        uri = f"sqlite:///{instance / 'portal.db'}"
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://") :]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    if not app.config["SEARCH_INDEX_DIR"]:
        app.config["SEARCH_INDEX_DIR"] = str(instance / "search-index")
    if not app.config["PUBLIC_URL"]:
        app.config["PUBLIC_URL"] = default_public_url(
            os.environ.get("HOST"), os.environ.get("PORT")
        )
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = f"sqlite:///{instance / 'ratelimit.sqlite'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")


def default_public_url(host: str | None = None, port: str | int | None = None) -> str:
    """Where `make run` serves (HOST, PORT), as a person would type it into a browser."""
    host = (host or "127.0.0.1").strip()
    if host in ("0.0.0.0", "::", "[::]", ""):  # noqa: S104  (listening everywhere: name the machine)
        host = socket.getfqdn() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = str(port or 5000).strip()
    return f"http://{host}" + ("" if port == "80" else f":{port}")


def _instance_secret(path: Path) -> str:
    """Read the generated secret key, creating it on first start (never a constant in code)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
    except OSError:
        raise
