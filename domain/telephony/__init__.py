"""Telephony: phone sessions bridged by the platform so neither party sees the other's number."""
