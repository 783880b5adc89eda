"""PostHog product analytics (``posthog``), or nothing when it is not configured."""
