"""Live sessions: check-in, waiting room, signaling, media path, step-down and attendance."""
