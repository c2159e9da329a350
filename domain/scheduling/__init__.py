"""Scheduling: office hours, slots, appointments, recurring series, cancellation policy, waitlist, reminders.

Pure rules only: no I/O, no clock reads (callers pass `now`). Instants are timezone-aware UTC `datetime`s;
wall-clock times (office hours, series times, waitlist preferences) are naive `time`s read in an IANA zone.
"""
