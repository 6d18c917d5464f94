"""Notifications: subscriptions with rules, reliable cursor-based delivery (apprise or a signed webhook),
digests, and share cards."""

from newsdelta.notify.dispatch import (
    DeliveryStats,
    add_subscription,
    deliver,
    delivery_report,
    notifications_due,
)

__all__ = ["DeliveryStats", "add_subscription", "deliver", "delivery_report", "notifications_due"]
