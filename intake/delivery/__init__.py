"""Delivery to the authorities: the outbox, the queue and its jobs, batches, the scheduler."""
