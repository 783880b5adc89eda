"""HTTP controllers, one per feature."""
