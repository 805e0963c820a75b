"""Rules of the `ratelimit` family, and the helpers only they use."""
