"""The real servers the sign-in tests talk to, started on free loopback ports.

- `OpenIDProvider`: panva's certified `oidc-provider` on Node (tests/accounts/oidc_provider;
  `npm ci` there installs it, as `.ci/run` and `make test` do).
- `Directory`: Debian's OpenLDAP `slapd` with a throwaway configuration and LDIF.

Where a part is missing the tests skip and say why, except under CI (CI=true), where a
missing part is a failure: CI on this machine must run them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "firstfix"
CLIENT_SECRET = "firstfix-test-secret-that-is-long-enough"

# login at the provider -> claims
PEOPLE = {
    "nora": {"email": "nora.new@example.com", "name": "Nora New", "groups": ["all-staff"]},
    "dana": {
        "email": "dana.desk@example.com",
        "name": "Dana Desk",
        "groups": ["all-staff", "it-servicedesk"],
    },
}


def missing(reason: str):
    """Skip with the reason; under CI a missing part fails the run instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def _stop(proc: subprocess.Popen, log, folder: Path) -> None:
    """End a server this suite started (only that process), then forget its files."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    log.close()
    shutil.rmtree(folder, ignore_errors=True)


# -- OpenID Connect ------------------------------------------------------------------------


class OpenIDProvider:
    """oidc-provider on a free port, with a signing key the tests also hold (to forge
    tokens that are validly signed but wrong in another way)."""

    def __init__(self, redirect_uris: list[str], people: dict | None = None) -> None:
        node = shutil.which("node")
        if node is None:
            missing("Node.js is not installed (apt-get install nodejs)")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            missing(f"oidc-provider is not installed: run `npm ci` in {PROVIDER_DIR}")
        self.folder = Path(tempfile.mkdtemp(prefix="firstfix-oidc-"))
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.people_file = self.folder / "people.json"
        self.set_people(people or PEOPLE)
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "peopleFile": str(self.people_file),
            "jwks": {"keys": [self.key.as_dict(private=True)]},
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": redirect_uris,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                }
            ],
        }
        config_file = self.folder / "config.json"
        config_file.write_text(json.dumps(config))
        self.log = open(self.folder / "provider.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.mjs"), str(config_file)],
            cwd=PROVIDER_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(self.port, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"oidc-provider did not start: {exc}: {self.output()}") from exc

    def set_people(self, people: dict) -> None:
        """The provider re-reads this at every sign-in: change groups between sign-ins."""
        self.people_file.write_text(json.dumps(people))

    def output(self) -> str:
        self.log.flush()
        return (self.folder / "provider.log").read_text()[-2000:]

    def stop(self) -> None:
        _stop(self.proc, self.log, self.folder)

    def portal_config(self, **extra) -> dict:
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_SCOPES": "openid email profile groups",
            "OIDC_ROLE_MAP": {"it-servicedesk": "agent"},
            **extra,
        }

    def sign(self, claims: dict, header: dict | None = None, key: RSAKey | None = None) -> str:
        """A token signed with the provider's own key (or another one)."""
        header = header or {"alg": "RS256", "kid": "test-key-1", "typ": "JWT"}
        return jwt.encode(header, claims, key or self.key)

    @staticmethod
    def unsigned(claims: dict) -> str:
        """An `alg: none` token: no signature at all."""

        def part(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.action:
            self.action = attrs.get("action") or ""
        elif tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields[attrs["name"]] = attrs.get("value") or ""


def sign_in_at_provider(authorize_url: str, login: str, callback_prefix: str) -> str:
    """Do what a person does on the provider's own pages: log in, then consent. Returns the
    URL the provider sends the browser back to (the portal's callback with code and state)."""
    http = requests.Session()
    url = authorize_url
    for _ in range(12):
        response = http.get(url, allow_redirects=False, timeout=10)
        while response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(callback_prefix):
                return url
            response = http.get(url, allow_redirects=False, timeout=10)
        form = _Form()
        form.feed(response.text)
        if not form.action:
            raise AssertionError(f"no form on the provider's page {url}: {response.text[:500]}")
        data = dict(form.fields)
        if "login" in data or 'name="login"' in response.text:
            data.update(login=login, password="any password")
        response = http.post(
            urljoin(url, form.action), data=data, allow_redirects=False, timeout=10
        )
        assert response.is_redirect, response.text[:500]
        url = urljoin(url, response.headers["Location"])
        if url.startswith(callback_prefix):
            return url
    raise AssertionError("the provider never sent the browser back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


# -- LDAP ----------------------------------------------------------------------------------

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
BASE = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"
SERVICE_DN = f"cn=portal,ou=services,{BASE}"
SERVICE_PASSWORD = "service-secret"
LENA_PASSWORD = "lena's directory password"
MAX_PASSWORD = "max's directory password"

LDIF = f"""dn: {BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{BASE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{BASE}
objectClass: organizationalUnit
ou: groups

dn: ou=services,{BASE}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: person
cn: portal
sn: portal
userPassword: {SERVICE_PASSWORD}

dn: uid=lena,ou=people,{BASE}
objectClass: inetOrgPerson
uid: lena
cn: Lena Ldap
sn: Ldap
displayName: Lena Ldap
mail: lena.ldap@example.com
userPassword: {LENA_PASSWORD}

dn: uid=max,ou=people,{BASE}
objectClass: inetOrgPerson
uid: max
cn: Max Desk
sn: Desk
displayName: Max Desk
mail: max.desk@example.com
userPassword: {MAX_PASSWORD}

dn: cn=it-servicedesk,ou=groups,{BASE}
objectClass: groupOfNames
cn: it-servicedesk
member: {SERVICE_DN}
member: uid=max,ou=people,{BASE}

dn: cn=all-staff,ou=groups,{BASE}
objectClass: groupOfNames
cn: all-staff
member: uid=lena,ou=people,{BASE}
member: uid=max,ou=people,{BASE}
"""

SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {folder}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {folder}/ca.pem
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key

database mdb
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {folder}/data
access to attrs=userPassword by anonymous auth by self read by * none
access to * by dn.exact="{service_dn}" read by self read by * none
"""


def _certificates(folder: Path) -> None:
    """A throwaway CA, a server certificate for 127.0.0.1 / localhost signed by it, and an
    unrelated CA (to show a certificate we cannot verify is refused)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    pem = serialization.Encoding.PEM

    def certificate(cn: str, key, issuer=None, issuer_key=None, extensions=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(
                issuer.subject
                if issuer
                else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
            )
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(issuer_key or key, hashes.SHA256())

    def ca(cn: str):
        key = ec.generate_private_key(ec.SECP256R1())
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        basic = x509.BasicConstraints(ca=True, path_length=None)
        return certificate(cn, key, extensions=[(basic, True), (usage, True)]), key

    ca_cert, ca_key = ca("Firstfix test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    server = certificate("localhost", key, ca_cert, ca_key, [(names, False)])
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    (folder / "other-ca.pem").write_bytes(ca("Some other CA")[0].public_bytes(pem))


class Directory:
    """OpenLDAP's slapd with a throwaway config and LDIF, plain LDAP and LDAPS ports."""

    def __init__(self) -> None:
        if not os.access(SLAPD, os.X_OK) or not os.access(SLAPADD, os.X_OK):
            missing("OpenLDAP's slapd is not installed (apt-get install slapd)")
        self.folder = Path(tempfile.mkdtemp(prefix="firstfix-ldap-"))
        (self.folder / "data").mkdir()
        _certificates(self.folder)
        conf = self.folder / "slapd.conf"
        conf.write_text(
            SLAPD_CONF.format(
                folder=self.folder,
                base=BASE,
                root_dn=ROOT_DN,
                root_password=ROOT_PASSWORD,
                service_dn=SERVICE_DN,
            )
        )
        (self.folder / "data.ldif").write_text(LDIF)
        subprocess.run(
            [SLAPADD, "-f", str(conf), "-l", str(self.folder / "data.ldif")],
            check=True,
            capture_output=True,
        )
        self.port, self.tls_port = free_port(), free_port()
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        self.log = open(self.folder / "slapd.log", "w")  # noqa: SIM115
        # -d 0: stay in the foreground (so the suite owns and ends the process), log nothing
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(conf), "-h", urls],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(self.port, self.proc)
            _wait_for_port(self.tls_port, self.proc)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"slapd did not start: {exc}") from exc

    @property
    def ca_file(self) -> str:
        return str(self.folder / "ca.pem")

    def portal_config(self, **extra) -> dict:
        return {
            "LDAP_URL": f"ldap://127.0.0.1:{self.port}",
            "LDAP_START_TLS": True,
            "LDAP_CA_FILE": self.ca_file,
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_USER_BASE": f"ou=people,{BASE}",
            "LDAP_USER_FILTER": "(|(mail={login})(uid={login}))",
            "LDAP_GROUP_BASE": f"ou=groups,{BASE}",
            "LDAP_GROUP_FILTER": "(&(objectClass=groupOfNames)(member={dn}))",
            "LDAP_ROLE_MAP": {"it-servicedesk": "agent"},
            **extra,
        }

    @contextlib.contextmanager
    def admin(self):
        """An ldap3 connection as the directory's root, to change it from a test."""
        from ldap3 import Connection, Server

        conn = Connection(
            Server(f"ldap://127.0.0.1:{self.port}"), ROOT_DN, ROOT_PASSWORD, auto_bind=True
        )
        try:
            yield conn
        finally:
            conn.unbind()  # ldap3's own `with` leaves a connection bound on entry open

    def stop(self) -> None:
        _stop(self.proc, self.log, self.folder)
