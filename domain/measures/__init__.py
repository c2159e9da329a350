"""Measurement-based care: questionnaires (PHQ-9, GAD-7), scoring with severity bands and risk flags, when an
assigned questionnaire is due, trends over time, numeric plan objectives, and safety alerts.

Pure rules only: no I/O, no clock reads (callers pass `now`). Instants are timezone-aware `datetime`s, normalised
to UTC; every interval is plain UTC arithmetic ("every 14 days" is 14 x 24 real hours, whatever DST does).
"""
