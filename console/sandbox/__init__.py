"""A local emulator of the Fansly API gateway (docs/gateway-contract.md) and its webhooks.

- :mod:`console.sandbox.world` — ``build_world(seed, size)``: a deterministic world of Fansly-
  shaped dicts (``small`` / ``default`` / ``large``) that the routes and the simulator mutate.
- :mod:`console.sandbox.app` — ``create_app(world, api_key=…, requests_per_minute=…,
  credits=…, webhook=…)``: every contract route under ``/api/fansly``; ``/_sandbox/faults``,
  ``/_sandbox/stats``, ``/_sandbox/simulate``, ``/_sandbox/webhook``; ``/healthz``.
- :mod:`console.sandbox.simulator` — ``Simulator`` (fans writing, tipping, buying, subscribing,
  reacting; signed deliveries with retries) and ``make_event`` / ``sign_delivery``.
- :mod:`console.sandbox.server` — ``SandboxServer``: all of it on a real socket, in the current
  loop (``async with``) or in a thread (``start_thread()``).
- :mod:`console.sandbox.hostile` — ``HOSTILE_STRINGS`` and where the world puts them.
"""
