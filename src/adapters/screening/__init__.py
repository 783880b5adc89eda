"""Text screening: rules on a block list per language and personal-data patterns, and an
OpenAI-compatible ``/moderations`` service in front of them."""
