"""Stand-ins for outside services, for `chorus dev` only (refused in production)."""
