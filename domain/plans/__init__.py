"""Therapy plans: problems, goals, measurable objectives, interventions, statuses, versions, acknowledgements
and per-goal progress fed by signed session notes.

Pure rules only: no I/O, no clock reads (callers pass instants). Instants are timezone-aware UTC `datetime`s;
target and review dates are plain `date`s. A plan's clinical content is a `PlanDocument`, serialised to a
versioned JSON-able dict that the service encrypts as one payload.
"""
