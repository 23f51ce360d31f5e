"""Incidents: the priority matrix and the SLA clock."""
