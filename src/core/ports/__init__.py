"""Ports (``typing.Protocol``) that adapters implement."""
