"""Entry points: the HTTP app, the `chorus` command line and the composition root."""
