"""Notification adapters: SMTP and console email, Twilio and console SMS."""
