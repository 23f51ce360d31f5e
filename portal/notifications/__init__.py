"""Mail both ways and who is told what.

Lower layer, used by the incidents domain: models, services (the outbox), sender (SMTP),
compose (how a mail reads), preferences (who wants what by mail), inbox (the staff unread
count). Upper layer, which calls the incidents services like the web does: intake (mail
in), imap (the desk's mailbox), answers ("This solved it"), worker (the background jobs),
views and admin (pages), cli.
"""
