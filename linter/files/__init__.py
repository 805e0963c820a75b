"""The kinds of non-JavaScript files loadlint reads (Prisma schemas, deployment files, shell scripts, `.env`
examples, Compose files), told apart by name; the rules that read each kind parse it themselves."""
