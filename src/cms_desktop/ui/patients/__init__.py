"""The Patients area: search as you type, patient tabs, identity and coverage page."""
