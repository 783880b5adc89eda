"""Redis adapters (shared rate limits when ``REDIS_URL`` is set)."""
