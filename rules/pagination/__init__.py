"""Rules of the `pagination` family, and the helpers only they use."""
