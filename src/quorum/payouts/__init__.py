"""Pay rates, the append-only earnings ledger and payout runs."""
