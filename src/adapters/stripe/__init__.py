"""Stripe: transfers to connected accounts and Stripe's signed webhooks."""
