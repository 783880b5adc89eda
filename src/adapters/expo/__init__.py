"""Expo push notifications (``exponent-server-sdk``)."""
