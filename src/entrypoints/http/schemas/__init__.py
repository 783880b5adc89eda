"""Wire structs (msgspec) for HTTP bodies."""
