"""LAN sync between workstations: op-log exchange, merge, discovery, mutual TLS."""
