"""Mail to requesters, followers and assignees, sent from an outbox so nothing is lost."""
