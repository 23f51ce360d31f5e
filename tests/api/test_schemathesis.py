"""schemathesis, run as its users run it, against /api/v1/openapi.json on a live portal: the
document and the API agree both ways (no 5xx, answers as documented, documented input
accepted and undocumented input refused), with the tokens of an employee and of an agent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from schemathesis.config import SchemathesisWarning

from portal.accounts.services import create_token
from portal.extensions import db
from portal.incidents import services
from tests.live import serve

EXAMPLES = 10  # per operation and phase: enough to find the faults it found, in seconds
# Operations that refuse a role by design (403 to every request): schemathesis would call that
# "authentication failed", so its missing_auth warning is off for them, and only for them.
REFUSED = {"employee": ["addUpdate"], "agent": []}
NOT_MISSING_AUTH = [
    w.value for w in SchemathesisWarning if w is not SchemathesisWarning.MISSING_AUTH
]


@pytest.fixture
def config_overrides():
    return {"MAIL_SEND_AFTER_COMMIT": False}


@pytest.fixture
def live(app):
    with serve(app) as url:
        yield url


@pytest.fixture
def portal(make_user, make_article):
    """Two people, a public and a staff-only article in their categories, an incident."""
    public = make_article(title="Printer says paper jam", category="Hardware", subcategory="Print")
    make_article(title="Directory console", category="Directory", visibility="staff")
    employee, agent = make_user("employee"), make_user("agent")
    services.raise_incident(employee, "VPN down", "Cannot connect since 9:00")
    db.session.commit()
    tokens = {"employee": create_token(employee), "agent": create_token(agent)}
    db.session.commit()
    return {"tokens": tokens, "slug": public.slug}


def _schemathesis(
    url: str, token: str, slug: str, tmp: Path, refused: list[str]
) -> subprocess.Popen:
    st = Path(sys.executable).with_name("st")
    tmp.mkdir()
    config = tmp / "schemathesis.toml"
    # an article that exists, so reading one is tested beyond its 404
    text = (
        f'[[operations]]\ninclude-operation-id = "getArticle"\nparameters = {{ slug = "{slug}" }}\n'
    )
    for operation in refused:
        text += (
            f'[[operations]]\ninclude-operation-id = "{operation}"\n'
            f"warnings = {{ display = {NOT_MISSING_AUTH!r} }}\n"
        )
    config.write_text(text)
    return subprocess.Popen(
        [
            str(st),
            *("--config-file", str(config)),
            "run",
            f"{url}/api/v1/openapi.json",
            *("--header", f"Authorization: Bearer {token}"),
            *("--max-examples", str(EXAMPLES)),
            *("--workers", "1", "--seed", "1", "--no-color"),
            *("--report-dir", str(tmp)),
        ],
        cwd=tmp,  # its example database (.hypothesis) stays out of the work tree
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_schemathesis_finds_no_failure_for_an_employee_and_an_agent(live, portal, tmp_path):
    # both at once: the coverage phase alone takes 15 s or more per run on a loaded machine
    runs = {
        role: _schemathesis(live, token, portal["slug"], tmp_path / role, REFUSED[role])
        for role, token in portal["tokens"].items()
    }
    try:
        for role, run in runs.items():
            output, _ = run.communicate(timeout=300)
            report = f"schemathesis as the {role}:\n{output[-6000:]}"
            assert run.returncode == 0, report
            tested = re.search(r"Tested:\s+(\d+)", output)
            assert tested and int(tested.group(1)) == 9, report  # every operation tested
            assert "Warnings:" not in output, report  # e.g. an operation only answering 404
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
                run.communicate()
