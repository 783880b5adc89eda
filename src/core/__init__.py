"""Chorus core: entities, rules, use cases and the ports they need.

Standard library only, so that any Python service can ``import core``.
"""
