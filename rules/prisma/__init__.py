"""Rules of the `prisma` family, and the helpers only they use."""
