"""The sync screen (peers, pairing code, conflicts) and the status-bar text."""
