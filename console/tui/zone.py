"""Times in the chatter's zone.

Everything below the UI keeps time in UTC (the gateway's and the cache's). The console shows
every clock time and date (thread, day separators, status line, offline banner, search, the
fan profile) in one zone: ``[ui] timezone`` when set, else the machine's (``TZ`` or
``/etc/localtime``). The zone is named once, in the status line (its abbreviation) and in the
help screen (in full), so no time stamp needs a suffix.

The zone is one setting for the process (one console per process): the app sets it when it is
built, and the widgets that format a time read it here, including before they are mounted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

_zone: tzinfo | None = None  # None: the machine's zone, as the OS says at each call


def zone_named(name: str | None) -> tzinfo | None:
    """The zone of an IANA name (``[ui] timezone``, checked when the config was read);
    ``None`` for empty or ``local``: the machine's zone."""
    if not name or name.strip().lower() == "local":
        return None
    from zoneinfo import ZoneInfo

    return ZoneInfo(name.strip())


def set_zone(zone: tzinfo | None) -> None:
    """Show times in ``zone`` from now on (``None``: the machine's zone)."""
    global _zone
    _zone = zone


def local(when: datetime) -> datetime:
    """``when`` in the chatter's zone (a naive time is taken as UTC, as the cache stores)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(_zone)


def local_day(when: datetime) -> date:
    """The chatter's calendar day of ``when`` (day separators group by it)."""
    return local(when).date()


def hhmm(when: datetime) -> str:
    return f"{local(when):%H:%M}"


def zone_abbreviation(now: datetime) -> str:
    """Short name of the zone at ``now``: ``IST``, ``CET``, else ``UTC+05:30``."""
    here = local(now)
    name = here.tzname() or ""
    if name and name[0] not in "+-" and not name[0].isdigit():
        return name
    return utc_offset(here)


def utc_offset(here: datetime) -> str:
    offset = here.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def zone_description(now: datetime) -> str:
    """The zone in full, for the help screen: ``Asia/Kolkata (IST, UTC+05:30)``."""
    here = local(now)
    key = getattr(_zone, "key", None)
    name = key if key else "this machine's zone" if _zone is None else str(_zone)
    short = zone_abbreviation(now)
    offset = utc_offset(here)
    detail = offset if short == offset else f"{short}, {offset}"
    return f"{name} ({detail})"
