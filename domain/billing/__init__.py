"""Billing: coding from the real session, rates and fees, invoices and payments, statements.

`coding` turns what actually happened in a session into CPT, modifier, place of service and diagnoses;
`fees` prices sessions and missed sessions and computes the platform fee and monthly statements; `invoices`
holds the payment state machine and idempotent webhook processing; `ports` declares the `PaymentGateway`.
"""
