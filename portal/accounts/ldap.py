"""LDAP / Active Directory sign-in with ldap3: search with a service account, bind as the user.

1. Bind with the service account (LDAP_BIND_DN), over LDAPS or after StartTLS when asked.
2. Search LDAP_USER_BASE with LDAP_USER_FILTER, the typed login escaped (RFC 4515) so that
   `*)(uid=*` is a strange name, not a wildcard; exactly one entry must match.
3. Bind as that entry with the typed password: the directory checks it, we never see a hash.
   An empty password is refused before asking (LDAP treats it as an anonymous bind).
4. Groups: the entry's memberOf (Active Directory), or a search of LDAP_GROUP_BASE.
"""

from __future__ import annotations

import contextlib
import logging
import ssl

from flask import current_app
from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from portal.accounts.signin import ExternalIdentity

log = logging.getLogger(__name__)


class DirectoryUnavailable(RuntimeError):
    """The directory could not be reached or refused the service account."""


def enabled() -> bool:
    return bool(current_app.config.get("LDAP_URL"))


def _server(config) -> Server:
    url: str = config["LDAP_URL"]
    tls = Tls(
        validate=ssl.CERT_REQUIRED,
        version=ssl.PROTOCOL_TLS_CLIENT,
        ca_certs_file=config["LDAP_CA_FILE"] or None,
    )
    return Server(
        url,
        use_ssl=url.lower().startswith("ldaps://"),
        tls=tls,
        get_info=NONE,
        connect_timeout=float(config["LDAP_TIMEOUT"]),
    )


def _connect(server: Server, config, user: str | None, password: str | None) -> Connection:
    """Open, secure (StartTLS when configured) and bind; the connection, bound or not."""
    conn = Connection(
        server,
        user=user,
        password=password,
        receive_timeout=max(1, int(config["LDAP_TIMEOUT"])),  # ldap3 packs it as an integer
        raise_exceptions=False,
        read_only=True,
    )
    try:
        conn.open()
        if config["LDAP_START_TLS"] and not server.ssl and not conn.start_tls():
            raise DirectoryUnavailable(f"StartTLS refused: {conn.result.get('description')}")
        conn.bind()
    except BaseException:
        _close(conn)
        raise
    return conn


def _close(conn: Connection) -> None:
    """Unbind and close the socket, also when opening or TLS failed half-way."""
    with contextlib.suppress(Exception):
        conn.unbind()
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with contextlib.suppress(Exception):
            sock.close()


def user_filter(login: str, template: str) -> str:
    """The configured filter with the login escaped into it."""
    return template.replace("{login}", escape_filter_chars(login))


def _first(entry, attribute: str) -> str:
    if not attribute or attribute not in entry.entry_attributes:
        return ""
    values = entry[attribute].values
    return str(values[0]) if values else ""


def authenticate(login: str, password: str) -> ExternalIdentity | None:
    """Who the directory says this is when the password is right; None when it is not.

    Raises DirectoryUnavailable when the directory cannot be asked.
    """
    config = current_app.config
    login = (login or "").strip()
    if not login or not password:
        return None
    email_attr = config["LDAP_EMAIL_ATTRIBUTE"]
    name_attr = config["LDAP_NAME_ATTRIBUTE"]
    try:
        server = _server(config)
        service = _connect(server, config, config["LDAP_BIND_DN"], config["LDAP_BIND_PASSWORD"])
        try:
            if not service.bound:
                raise DirectoryUnavailable(
                    f"the service account could not bind: {service.result.get('description')}"
                )
            attributes = [a for a in {email_attr, name_attr, "cn", "memberOf"} if a]
            service.search(
                config["LDAP_USER_BASE"],
                user_filter(login, config["LDAP_USER_FILTER"]),
                search_scope=SUBTREE,
                attributes=attributes,
                size_limit=2,
            )
            entries = list(service.entries)
            if len(entries) != 1:
                log.info("LDAP: %d entries for the login", len(entries))
                return None
            entry = entries[0]
            dn = entry.entry_dn
            groups = _groups(service, entry, dn, config)
        finally:
            _close(service)
        person = _connect(server, config, dn, password)
        try:
            if not person.bound:
                return None
        finally:
            _close(person)
    except LDAPException as exc:
        raise DirectoryUnavailable(str(exc) or type(exc).__name__) from exc
    except (OSError, ssl.SSLError) as exc:
        raise DirectoryUnavailable(str(exc)) from exc
    return ExternalIdentity(
        source="ldap",
        external_id=dn,
        email=_first(entry, email_attr),
        name=_first(entry, name_attr) or _first(entry, "cn") or login,
        groups=groups,
    )


def _groups(conn: Connection, entry, dn: str, config) -> list[str]:
    if not config["LDAP_GROUP_BASE"]:
        return [str(v) for v in entry["memberOf"].values] if "memberOf" in entry else []
    conn.search(
        config["LDAP_GROUP_BASE"],
        config["LDAP_GROUP_FILTER"].replace("{dn}", escape_filter_chars(dn)),
        search_scope=SUBTREE,
        attributes=["cn"],
    )
    return [group.entry_dn for group in conn.entries]
