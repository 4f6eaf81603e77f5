"""Administration area: staff accounts and the audit trail."""
