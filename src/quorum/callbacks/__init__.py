"""Callbacks: an outbox of task events, a sender loop that posts them signed, and redelivery."""
