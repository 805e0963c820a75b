"""BLAKE2b, the digest behind every key loadlint keeps (the caches, the socket names, the rule instances).

Taken from the module `hashlib` takes it from, where there is one: importing `hashlib` loads OpenSSL for
constructors loadlint never calls, 2 to 3 ms of every run.
"""

try:
    from _blake2 import blake2b
except ImportError:  # a Python without it
    from hashlib import blake2b

__all__ = ["blake2b"]
