"""Security: cryptography, staff and API tokens, who may reach what, audit, key rotation."""
