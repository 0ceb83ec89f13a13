"""The one internal event type every webhook vocabulary is normalised into (§16.3).

The listener (``console/webhooks``) builds these from signed deliveries; the sync engine
applies them to the store; the hub streams them to remote consoles; the TUI reacts to them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from console.api.models import Message, Subscription


class EventType(StrEnum):
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_SENT = "message.sent"
    TIP_RECEIVED = "tip.received"
    SALE_COMPLETED = "sale.completed"
    SUBSCRIPTION_NEW = "subscription.new"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_EXPIRED = "subscription.expired"
    CHAT_REACTION = "chat.reaction"
    UNKNOWN = "unknown"


class Provider(StrEnum):
    FANSLY_API = "fansly-api"  # the §16.0 contract (X-Fansly-Signature)
    APIFANSLY = "apifansly"  # §16.1 names
    ONLYFANSAPI = "onlyfansapi"  # §16.2 names


class Reaction(BaseModel):
    message_id: str
    user_id: str | None = None
    type: int = 1
    added: bool = True


class Event(BaseModel):
    """A normalised webhook event."""

    model_config = ConfigDict(extra="ignore")

    type: EventType
    provider: Provider
    #: The provider's event name as delivered (kept for unknown types).
    name: str
    idempotency_key: str
    account_id: str
    occurred_at: datetime
    chat_id: str | None = None
    fan_id: str | None = None
    amount_millis: int | None = None
    #: The vault item a sale names (``accountMediaId``, §16.1).
    media_id: str | None = None
    message: Message | None = None
    reaction: Reaction | None = None
    subscription: Subscription | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    #: Position in the durable event log, set once stored (the hub resumes from it).
    seq: int | None = None
