"""Payment provider adapters for `domain.billing.ports.PaymentGateway`."""
