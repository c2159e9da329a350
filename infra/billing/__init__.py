"""Billing adapters that are not the payment provider (documents)."""
