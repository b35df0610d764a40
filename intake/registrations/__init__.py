"""Use cases of a registration: register it, drafts, appointments, its status, forgetting it."""
