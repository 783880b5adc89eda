"""Paystack: transfers to bank and mobile-money accounts, and its signed webhooks."""
