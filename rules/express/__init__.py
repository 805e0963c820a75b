"""Rules of the `express` family, and the helpers only they use."""
