"""fansly-console: a keyboard-only terminal chat console for Fansly creator inboxes."""

__version__ = "0.1.0"
