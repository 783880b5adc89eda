"""The `chorus` command line."""
