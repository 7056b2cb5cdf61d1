"""rbtk: Roboticks alert routing — platform events to PagerDuty, Slack and email."""

__version__ = "0.1.0"
