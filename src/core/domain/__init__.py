"""Entities, value objects and pure rules."""
