"""The agenda area: day, week and month views, booking, waiting room."""
