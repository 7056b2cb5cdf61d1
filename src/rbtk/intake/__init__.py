"""Stage 1, intake: platform events are validated, stored and handed to the policy (and the
scheduler wakes the policy for thresholds that pass with no event)."""
