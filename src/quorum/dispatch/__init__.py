"""Assignments (leases): who works on which task, handed out without double-booking."""
