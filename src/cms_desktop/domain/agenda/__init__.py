"""Agenda rules: opening hours, practitioner ranges, booking checks, free slots, series."""
