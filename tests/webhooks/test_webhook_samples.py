"""The webhook samples the tests post (support/webhooks.py) cover every event name."""

from __future__ import annotations

import json

from support.webhooks import all_deliveries


def test_samples_cover_every_known_event_name() -> None:
    from console.webhooks.normalise import EVENT_NAMES

    names = {delivery.name for delivery in all_deliveries()}
    assert names == set(EVENT_NAMES)


def test_samples_are_json_objects() -> None:
    for delivery in all_deliveries():
        assert isinstance(json.loads(delivery.body), dict)
