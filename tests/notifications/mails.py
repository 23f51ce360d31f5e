"""Messages as real mail clients send them (tests/fixtures/mail/*.eml, captured shapes of
Thunderbird, Outlook/Exchange, Gmail and Postfix), filled in for a test."""

from __future__ import annotations

import base64
import quopri
import uuid
from pathlib import Path
from string import Template

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"


def _fill(name: str, **values) -> bytes:
    text = Template((FIXTURES / name).read_text()).substitute(**values)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def new_id() -> str:
    return f"{uuid.uuid4().hex[:16]}@mail.example.com"


def thunderbird_new(
    from_addr: str = "erin@example.com",
    from_name: str = "Erin Employee",
    subject: str = "Printer shows as offline",
    text: str = "Since this morning the printer on floor 3 is listed as offline.",
    message_id: str | None = None,
) -> bytes:
    """A new mail from Thunderbird: plain text and HTML, an inline screenshot, a PDF and an
    .exe attached."""
    return _fill(
        "thunderbird-new.eml",
        from_addr=from_addr,
        from_name=from_name,
        subject=subject,
        text=text,
        html=text.replace("\n", "<br>\n"),
        message_id=message_id or new_id(),
    )


QUOTED_OUTLOOK = """

Kind regards,
{name}
IT Operations | Example Corp
Phone +44 20 7946 0000

From: Firstfix <servicedesk@example.com>
Sent: Thursday, December 3, 2026 9:05 AM
To: {name} <{addr}>
Subject: {subject}

##- Please type your reply above this line -##

New reply on the incident. The service desk wrote:
Did you restart the laptop?
"""


def outlook_reply(
    in_reply_to: str,
    text: str,
    subject: str,
    from_addr: str = "erin@example.com",
    from_name: str = "Erin Employee",
    references: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """A reply from Outlook: top-posted, signature, the quoted notification below."""
    body = text + QUOTED_OUTLOOK.format(name=from_name, addr=from_addr, subject=subject)
    body = body.replace("\n", "\r\n")
    html = body.replace("\r\n", "<br>")
    return _fill(
        "outlook-reply.eml",
        from_addr=from_addr,
        from_name=from_name,
        subject=subject,
        message_id=message_id or new_id(),
        in_reply_to=in_reply_to,
        references=references or in_reply_to,
        text_base64=base64.encodebytes(body.encode("utf-8")).decode("ascii").strip(),
        html_qp=quopri.encodestring(html.encode("utf-8")).decode("ascii"),
    )


QUOTED_GMAIL = """

On Thu, 3 Dec 2026 at 10:01, Firstfix <servicedesk@example.com> wrote:

> ##- Please type your reply above this line -##
>
> New reply on the incident. The service desk wrote:
> Did you restart the laptop?
>
> --
> Firstfix service desk
"""


def gmail_reply(
    text: str,
    subject: str,
    in_reply_to: str = "",
    from_addr: str = "erin@example.com",
    from_name: str = "Erin Employee",
    message_id: str | None = None,
    spf: str = "pass",
    dmarc: str = "pass",
    authserv: str = "mx.example.com",
) -> bytes:
    """A reply from Gmail: "On ... wrote:" and the quoted history, with the receiving
    server's Authentication-Results."""
    body = (text + QUOTED_GMAIL).replace("\n", "\r\n")
    return _fill(
        "gmail-reply.eml",
        from_addr=from_addr,
        from_name=from_name,
        from_domain=from_addr.rpartition("@")[2],
        subject=subject,
        message_id=message_id or new_id(),
        in_reply_to=in_reply_to,
        references=in_reply_to,
        text_qp=quopri.encodestring(body.encode("utf-8")).decode("ascii"),
        html_qp=quopri.encodestring(body.replace("\r\n", "<br>").encode("utf-8")).decode("ascii"),
        spf=spf,
        dmarc=dmarc,
        authserv=authserv,
    )


def out_of_office(
    in_reply_to: str,
    subject: str,
    from_addr: str = "erin@example.com",
    from_name: str = "Erin Employee",
) -> bytes:
    """Exchange's out-of-office answer to one of our mails."""
    return _fill(
        "outlook-out-of-office.eml",
        from_addr=from_addr,
        from_name=from_name,
        subject=subject,
        in_reply_to=in_reply_to,
        message_id=new_id(),
    )


def bounce() -> bytes:
    """Postfix's delivery status notification for a mail of ours that could not be delivered."""
    return _fill("postfix-bounce.eml", message_id=new_id())
