"""Rules of the `stripe` family, and the helpers only they use."""
