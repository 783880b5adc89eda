"""LiveKit: rooms, join tokens and signed webhooks for live streams (``livekit-api``)."""
