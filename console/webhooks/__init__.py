"""console.webhooks: the signed-webhook listener, the live event hub and the hub's client.

- :mod:`~console.webhooks.signature` — HMAC-SHA256 signatures (``sign``, ``verify``);
- :mod:`~console.webhooks.normalise` — any provider's body → :class:`console.events.Event`;
- :mod:`~console.webhooks.app` — ``create_listener_app(sink | intake=…, secrets=…, hub=…)``
  (Starlette);
- :mod:`~console.webhooks.intake` — what follows the signature check: parse, normalise, record
  + apply, as an ``Outcome`` (``local_intake(sink)`` runs it on the listener's loop);
- :mod:`~console.webhooks.worker` — ``IngestWorker``: the same in a process of its own
  (``listen``), so SQLite runs beside the HTTP loop instead of taking turns with it;
- :mod:`~console.webhooks.hub` — ``EventHub`` (in-process fan-out, resumable ``stream``);
- :mod:`~console.webhooks.remote` — ``RemoteEvents``, the resuming websocket client;
- :mod:`~console.webhooks.sinks` — the store as a sink and an event log.

Nothing here imports Textual; importing this package imports nothing heavy.
"""
