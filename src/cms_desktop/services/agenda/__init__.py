"""Agenda services: settings, resources, booking, views, waiting room and list, overlaps,
printouts and iCalendar export. Import the submodules directly.
"""
