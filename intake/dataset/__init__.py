"""The dataset: what a registration is, its fields and rules; no web, storage or XML."""
