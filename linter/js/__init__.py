"""Shared JavaScript/TypeScript knowledge the rules build on: imports, env reads, literals."""
