"""Verification of Supabase Auth JWTs."""
