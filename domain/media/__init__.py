"""Media for live sessions: the relay port shared by the session service and the relay adapters."""
