"""Session notes: progress notes from templates (SOAP, DAP, BIRP, free), drafts, signing with a content hash,
addenda, the overdue-note to-do rule, and psychotherapy (process) notes kept apart and readable only by their
author.

Pure rules only: no I/O, no clock reads (callers pass instants). Clinical content is serialised to versioned
JSON-able dicts that the services encrypt.
"""
