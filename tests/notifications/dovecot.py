"""A real IMAP server for the suite: Debian's Dovecot with a throwaway configuration, a
self-signed certificate and one mailbox, on free loopback ports (IMAP with STARTTLS, and
IMAPS). Mail reaches the mailbox the way an MTA delivers it: through dovecot-lda.

`.ci/run` installs dovecot-imapd; where it is missing the tests that need it say so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
USER, PASSWORD = "servicedesk@example.com", "desk-mailbox-secret"


@dataclass
class Dovecot:
    root: Path
    config: Path
    imap_port: int
    imaps_port: int
    ca_file: str
    process: subprocess.Popen | None = None

    def deliver(self, raw: bytes, sender: str = "someone@example.com") -> None:
        """Local delivery into the desk's INBOX, as the MTA's delivery agent does it."""
        result = subprocess.run(  # noqa: S603
            [LDA, "-c", str(self.config), "-d", USER, "-f", sender],
            input=raw,
            capture_output=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dovecot-lda failed: {result.stderr.decode()}")

    def portal_config(self, security: str = "ssl") -> dict:
        return {
            "MAIL_IMAP_SERVER": "127.0.0.1",
            "MAIL_IMAP_PORT": self.imaps_port if security == "ssl" else self.imap_port,
            "MAIL_IMAP_SECURITY": security,
            "MAIL_IMAP_USERNAME": USER,
            "MAIL_IMAP_PASSWORD": PASSWORD,
            "MAIL_CA_FILE": self.ca_file,
        }

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)


def missing() -> str:
    """Why Dovecot cannot run here, or "" when it can."""
    if not (os.access(DOVECOT, os.X_OK) and os.access(LDA, os.X_OK)):
        return "Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (needed for the test certificate)"
    if os.geteuid() != 0:
        return "Dovecot's master process needs root here (as in CI)"
    return ""


def serve() -> Iterator[Dovecot]:
    """A module fixture's body: a running server, skipped with its reason where it cannot
    run, and a failure under CI, which must run every mail test."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the mail tests: {reason}")
        pytest.skip(reason)
    server = start()
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> Dovecot:
    # Not under pytest's tmp_path: its parents are private to root, and Dovecot reads the
    # mailbox as the unprivileged "mail" user.
    root = Path(tempfile.mkdtemp(prefix="firstfix-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    home.mkdir()
    shutil.chown(home, "mail", "mail")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(  # noqa: S603
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=60,
    )
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    imap_port, imaps_port = _free_port(), _free_port()
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = firstfix-test-{imap_port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
login_trusted_networks =
auth_mechanisms = plain login
first_valid_uid = 8
first_valid_gid = 8
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={home}/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
    )
    server = Dovecot(root, config, imap_port, imaps_port, str(cert))
    server.process = subprocess.Popen(  # noqa: S603
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.process.stdout.read().decode() if server.process.stdout else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            server.stop()
            raise RuntimeError(f"dovecot exited: {output} {log}")
        try:
            with socket.create_connection(("127.0.0.1", imaps_port), timeout=1):
                with socket.create_connection(("127.0.0.1", imap_port), timeout=1):
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("dovecot did not start listening within 30 s")
