"""Rules of the `auth` family, and the helpers only they use."""
