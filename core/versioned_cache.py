"""Cache entries that an invalidation always beats, however a concurrent fill interleaves.

A plain "delete on change" loses a race: a reader that read the database before the change
and writes the cache after the delete puts the old row back for the whole timeout. Here each
cached thing has a generation (a random token under its own key) and every entry records
the generation it was filled under; an entry counts only while that is still the current
generation. An invalidation replaces the generation, so an entry filled from an older read,
whenever it is written, is never read again.

Why generations rather than add-if-absent plus a re-check: the re-check costs a second
database read on every fill and still depends on what that read can see of an uncommitted
revocation; the generation costs nothing on a warm read, because the entry and its
generation are fetched in the same cache round trip (`keys()` lets a caller batch them).
Random tokens, not a counter: a generation evicted or expired and then recreated can never
repeat an old value, so an evicted generation makes entries misses, never stale hits.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

# Longer than the entries live (minutes); an expired generation only turns its entries into
# misses. Not much longer: a flood of unknown names leaves a generation for each behind.
GENERATION_SECONDS = 3600


@dataclass(frozen=True)
class Slot:
    """What a lookup found. `hit`: `value` is current. Otherwise begin_fill(), then fill()."""

    hit: bool
    value: Any = None
    generation: str | None = None


class VersionedCache:
    def __init__(self, prefix: str, *, generation_seconds: int = GENERATION_SECONDS) -> None:
        self.prefix = prefix
        self.generation_seconds = generation_seconds

    def keys(self, name: str) -> tuple[str, str]:
        """The entry's key and its generation's key, to read both in one get_many."""
        return f"{self.prefix}{name}", f"{self.prefix}gen:{name}"

    def lookup(self, name: str, *, prefetched: Mapping[str, Any] | None = None) -> Slot:
        """`prefetched`: a get_many result that covered both keys(name) (absent = missing).

        Writes nothing. On a miss, call begin_fill() before reading the database.
        """
        entry_key, gen_key = self.keys(name)
        found = prefetched if prefetched is not None else cache.get_many([entry_key, gen_key])
        generation, entry = found.get(gen_key), found.get(entry_key)
        if generation is not None and isinstance(entry, dict) and entry.get("g") == generation:
            return Slot(hit=True, value=entry.get("v"), generation=generation)
        return Slot(hit=False, generation=generation)

    def begin_fill(self, name: str, slot: Slot) -> Slot:
        """The slot to fill after the database read, with the generation fixed now: a fill
        must carry the generation current before its read, or an invalidation in between
        would be lost."""
        if slot.generation is not None:
            return slot
        gen_key = self.keys(name)[1]
        cache.add(gen_key, secrets.token_hex(8), self.generation_seconds)
        return Slot(hit=False, generation=cache.get(gen_key))

    def fill(self, name: str, slot: Slot, value: Any, timeout: float) -> None:
        if slot.generation is None or timeout <= 0:
            return  # no shared generation (cache unavailable) or caching disabled
        cache.set(self.keys(name)[0], {"g": slot.generation, "v": value}, timeout)

    def invalidate(self, names: list[str]) -> None:
        """Now, and again after commit: a reader between the save and the commit may have
        read the old row, and it fills under the generation set now."""
        self._bump(names)
        transaction.on_commit(lambda: self._bump(names))

    def _bump(self, names: list[str]) -> None:
        entries = {self.keys(n)[1]: secrets.token_hex(8) for n in names}
        cache.set_many(entries, self.generation_seconds)
        cache.delete_many([self.keys(n)[0] for n in names])  # frees the memory at once
