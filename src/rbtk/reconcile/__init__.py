"""Closing the loop with PagerDuty: what its REST API says is open, against what rbtk sent."""
