"""The audit log: append-only record of every state change by customers and operators."""
