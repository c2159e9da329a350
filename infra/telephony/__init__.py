"""Telephony adapters: Twilio Programmable Voice, and a console stand-in for development."""
