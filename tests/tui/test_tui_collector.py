"""Full garbage collections run at quiet moments, not in the middle of a burst."""

from __future__ import annotations

import gc

from console.tui.collector import AT_THE_LATEST, QUIET, Collector


def test_full_collections_wait_for_a_quiet_moment_and_the_policy_is_restored() -> None:
    now = [0.0]
    before = gc.get_threshold()
    collector = Collector(clock=lambda: now[0])
    collector.start()
    try:
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**6
        assert not collector.tick()  # nothing happened since the start: nothing to find
        collector.activity()
        now[0] += QUIET / 2
        assert not collector.tick()  # still busy
        now[0] += QUIET
        assert collector.tick() and collector.collections == 1
        now[0] += 60
        assert not collector.tick()  # idle since: an idle console collects nothing
        # A stream that never pauses is still collected, at the latest every AT_THE_LATEST.
        for _ in range(int(AT_THE_LATEST / 0.5) + 1):
            now[0] += 0.5
            collector.activity()
            collector.tick()
        assert collector.collections == 2
    finally:
        collector.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
