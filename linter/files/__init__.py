"""What loadlint knows of a project's files that are not JavaScript: Prisma schemas, deployment configuration
(Dockerfiles, Procfiles, Railway, Render, Fly.io, Nixpacks), shell scripts, `.env` examples and Compose files."""
