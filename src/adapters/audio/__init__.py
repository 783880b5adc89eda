"""Audio inspection with mutagen."""
