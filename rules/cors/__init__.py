"""Rules of the `cors` family, and the helpers only they use."""
