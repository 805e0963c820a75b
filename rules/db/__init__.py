"""Rules of the `db` family, and the helpers only they use."""
