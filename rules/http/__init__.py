"""Rules of the `http` family, and the helpers only they use."""
