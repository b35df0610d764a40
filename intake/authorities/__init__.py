"""The authorities: the official directory, the postal codes each serves, demo data."""
