"""The only code that speaks HTTP to the gateway.

``client.FanslyClient`` (and ``client_from_settings``), ``routes.ROUTES`` (every route, once),
``errors`` (typed failures), ``budget`` (per-key request budget), ``parse`` (Fansly dicts →
``models``). Nothing is imported here, so ``import console.api.models`` stays cheap.
"""
