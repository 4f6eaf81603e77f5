"""Agenda rules: opening hours, practitioner ranges, booking checks, free slots, series.

Modules: hours (centre calendar and holidays), practitioner (consulting ranges, absences),
appointments (types, intervals, check_booking), slots (next_free_slots, load_by_day),
recurrence (series and plan_series), waiting_room (visit status machine), errors.
Times are naive wall-clock times in Europe/Paris; storage converts to and from UTC.
"""
