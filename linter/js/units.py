"""Durations and sizes written the way Node libraries read them.

- `ms` (jsonwebtoken's `expiresIn`, express-session's `maxAge` strings): `'7d'`, `'24h'`, `'2 days'`, `'1.5h'`;
  a string of digits alone is milliseconds.
- jose (`setExpirationTime('2h')`): `'2h'`, `'30 minutes'`, `'1 day from now'`; no milliseconds.
- `bytes` (body-parser's `limit`): `'100kb'`, `'10mb'`, `'1.5 GB'`, in powers of 1024; digits alone are bytes.
"""

from __future__ import annotations

import re

from linter import lazy_re

_SECOND = 1.0
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY
_YEAR = 365.25 * _DAY

_MS_UNITS = (
    (("years", "year", "yrs", "yr", "y"), _YEAR),
    (("weeks", "week", "w"), _WEEK),
    (("days", "day", "d"), _DAY),
    (("hours", "hour", "hrs", "hr", "h"), _HOUR),
    (("minutes", "minute", "mins", "min", "m"), _MINUTE),
    (("seconds", "second", "secs", "sec", "s"), _SECOND),
    (("milliseconds", "millisecond", "msecs", "msec", "ms"), _SECOND / 1000),
)
_MS_SECONDS = {unit: seconds for units, seconds in _MS_UNITS for unit in units}
_MS_FORMAT = lazy_re.compile(r"^(?P<amount>-?\d*\.?\d+) *(?P<unit>[a-z]+)?$", re.I)

_JOSE_SECONDS = {unit: seconds for units, seconds in _MS_UNITS[:-1] for unit in units}
_JOSE_FORMAT = lazy_re.compile(
    r"^(?P<sign>[+-])? ?(?P<amount>\d+|\d+\.\d+) ?(?P<unit>[a-z]+)(?: (?P<direction>ago|from now))?$", re.I
)

_BYTE_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40, "pb": 1 << 50}
_BYTES_FORMAT = lazy_re.compile(r"^(?P<amount>[+-]?\d+(?:\.\d+)?) *(?P<unit>kb|mb|gb|tb|pb|b)$", re.I)


def ms_seconds(value: str) -> float | None:
    """Seconds in an `ms`-style string (`'7d'` → 604800.0, `'1500'` → 1.5), or None when `ms` cannot read it."""
    match = _MS_FORMAT.match(value.strip())
    if match is None:
        return None
    unit = (match.group("unit") or "ms").lower()
    if unit not in _MS_SECONDS:
        return None
    return float(match.group("amount")) * _MS_SECONDS[unit]


def jose_seconds(value: str) -> float | None:
    """Seconds from now in a jose time span (`'2h'`, `'30 minutes from now'`), or None (also for `'… ago'`)."""
    match = _JOSE_FORMAT.match(value.strip())
    if match is None or match.group("unit").lower() not in _JOSE_SECONDS:
        return None
    if match.group("sign") == "-" or (match.group("direction") or "").lower() == "ago":
        return None
    return float(match.group("amount")) * _JOSE_SECONDS[match.group("unit").lower()]


def byte_count(value: int | float | str) -> float | None:
    """Bytes in a `bytes`-style size (`'10mb'` → 10485760, `2048` → 2048), or None when unreadable."""
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    value = value.strip()
    if value.isdigit():
        return float(value)
    match = _BYTES_FORMAT.match(value)
    if match is None:
        return None
    amount = float(match.group("amount"))
    return amount * _BYTE_UNITS[match.group("unit").lower()] if amount >= 0 else None


def describe_seconds(seconds: float) -> str:
    """`'30 days'`, `'36 hours'`, `'1 year'`: a duration in the largest unit that says it exactly (else in
    tenths of the largest unit that fits)."""
    units = (("year", _YEAR), ("day", _DAY), ("hour", _HOUR), ("minute", _MINUTE), ("second", _SECOND))
    for name, size in units:
        if seconds >= size and seconds % size == 0:
            return _plural(seconds / size, name)
    for name, size in units:
        if seconds >= size:
            return _plural(round(seconds / size, 1), name)
    return _plural(seconds, "second")


def _plural(amount: float, unit: str) -> str:
    shown = f"{amount:g}"
    return f"{shown} {unit}{'' if shown == '1' else 's'}"


def describe_bytes(count: float) -> str:
    """`'10 MB'`, `'512 KB'`."""
    for unit in ("pb", "tb", "gb", "mb", "kb"):
        size = _BYTE_UNITS[unit]
        if count >= size:
            amount = count / size
            return f"{amount:g} {unit.upper()}" if amount == int(amount) else f"{amount:.1f} {unit.upper()}"
    return f"{count:g} bytes"
