"""Rules of the `loadlint` family, and the helpers only they use."""
