"""Events for other systems: what changed, recorded with the change, delivered by webhooks.

- records.py: the event of each change, written in the change's transaction (the operation
  core's, next to its audit rows, set-based like them; progress's; the clock's), and `announce`,
  which queues the fan-out once that transaction commits.
- clock.py: the periodic sweep that records the changes the clock makes (access that starts at
  `start_at`, access that ends when `ended_at` passes), once per enrollment and instant.
- fan_out.py: each event's deliveries, one per endpoint that receives it.
- envelope.py: the JSON body receivers get (Healthie's four keys and our additive ones).

Delivery (signing, sending, retries) is enrollments/events/delivery.py, run by the jobs of
enrollments/jobs/webhooks.py, never while a row lock is held.
"""
