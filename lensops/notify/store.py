"""In-app notifications in Redis: per user, newest first, capped, expiring, published live.

Per user there is a hash of notifications (JSON by id), a timeline and an unread set (sorted sets
scored by the event's time in ms) and a pub/sub channel. Adding is one Lua script, so storing,
trimming to the cap, dropping what is older than the TTL and publishing happen atomically; adding
an id that is already stored changes nothing, so a retried job neither duplicates a notification
nor marks a read one unread again.

Over the cap, what goes first is what matters least: read before unread, then low before medium
before high before urgent, then the oldest. An unread urgent notification is never dropped to make
room; the cap gives way for those until they are read (or reach the TTL).

    store = NotificationStore(redis.Redis.from_url(url), settings)
    store.notifications("u-42")            # unread first, each group newest first
    store.unread_count("u-42")
    store.mark_read("u-42", ["..."]) / store.mark_all_read("u-42")
    with store.subscribe("u-42") as live:   # real-time clients
        message = live.get_message(timeout=30)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lensops.engine import keys
from lensops.engine.scripts import load_lua
from lensops.notify.models import ID_PATTERN, Notification
from lensops.notify.settings import NotificationSettings

_ADD = load_lua("add", "lensops.notify")


class InvalidUserId(ValueError):
    """A user id that cannot name a notification inbox."""


@dataclass(frozen=True)
class Added:
    created: bool  # False when this id was already stored (a retried job)
    receivers: int  # real-time clients that got it


@dataclass(frozen=True)
class Marked:
    marked: int  # notifications that were unread and are now read
    unknown: list[str]  # ids this user has no notification for


def check_user_id(user_id: str) -> str:
    """`user_id` if it can name an inbox; raises InvalidUserId otherwise."""
    if not re.match(ID_PATTERN, user_id):
        raise InvalidUserId(f"invalid user id {user_id!r} (1-128 of A-Z a-z 0-9 . _ @ : -)")
    return user_id


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class NotificationStore:
    """The notifications of every user, in the Redis of `connection`."""

    def __init__(self, connection: Any, settings: NotificationSettings | None = None):
        self.connection = connection
        self.settings = settings or NotificationSettings()
        self._add = connection.register_script(_ADD)

    def _oldest_kept(self) -> int:
        return round(time.time() * 1000) - self.settings.ttl_ms

    def add(self, notification: Notification) -> Added:
        """Store `notification` for its user and publish it, unless its id is already stored."""
        user_id = check_user_id(notification.user_id)
        body = notification.model_dump_json(exclude={"read"})
        score = round(notification.created_at.timestamp() * 1000)
        created, receivers = self._add(
            keys=[
                keys.notification_items(user_id),
                keys.notification_timeline(user_id),
                keys.notification_unread(user_id),
            ],
            args=[
                notification.id,
                body,
                score,
                self.settings.max_per_user,
                self.settings.ttl_ms,
                keys.notification_channel(user_id),
                round(time.time() * 1000),
            ],
        )
        return Added(created=bool(created), receivers=int(receivers))

    def notifications(self, user_id: str, *, unread_only: bool = False, limit: int = 50) -> list[Notification]:
        """Up to `limit` notifications of the user: unread first, each group newest first."""
        check_user_id(user_id)
        oldest = self._oldest_kept()
        pipe = self.connection.pipeline(transaction=False)
        pipe.zrevrangebyscore(keys.notification_unread(user_id), "+inf", oldest)
        pipe.zrevrangebyscore(keys.notification_timeline(user_id), "+inf", oldest)
        unread_ids, all_ids = ([_text(i) for i in ids] for ids in pipe.execute())
        unread = set(unread_ids)
        ordered = unread_ids if unread_only else unread_ids + [i for i in all_ids if i not in unread]
        page = ordered[: max(0, limit)]
        if not page:
            return []
        found = self.connection.hmget(keys.notification_items(user_id), page)
        listed = []
        for notification_id, raw in zip(page, found, strict=True):
            if raw is not None:  # trimmed between the two round trips
                item = Notification.model_validate_json(raw)
                item.read = notification_id not in unread
                listed.append(item)
        return listed

    def unread_count(self, user_id: str) -> int:
        """How many of the user's notifications are unread."""
        check_user_id(user_id)
        return int(self.connection.zcount(keys.notification_unread(user_id), self._oldest_kept(), "+inf"))

    def mark_read(self, user_id: str, notification_ids: Iterable[str]) -> Marked:
        """Mark the given notifications read; ids the user has no notification for are reported."""
        check_user_id(user_id)
        wanted = list(dict.fromkeys(notification_ids))
        if not wanted:
            return Marked(marked=0, unknown=[])
        pipe = self.connection.pipeline(transaction=True)
        pipe.hmget(keys.notification_items(user_id), wanted)
        pipe.zrem(keys.notification_unread(user_id), *wanted)
        found, removed = pipe.execute()
        unknown = [nid for nid, raw in zip(wanted, found, strict=True) if raw is None]
        return Marked(marked=int(removed), unknown=unknown)

    def mark_all_read(self, user_id: str) -> int:
        """Mark every notification of the user read; returns how many were unread."""
        check_user_id(user_id)
        pipe = self.connection.pipeline(transaction=True)
        pipe.zcount(keys.notification_unread(user_id), self._oldest_kept(), "+inf")
        pipe.delete(keys.notification_unread(user_id))
        count, _ = pipe.execute()
        return int(count)

    def subscribe(self, user_id: str) -> Any:
        """A redis PubSub subscribed to the user's live channel (each message is one notification).

        Read with ``get_message(timeout=...)`` and :func:`parse_live_message`; close it when done.
        """
        check_user_id(user_id)
        pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(keys.notification_channel(user_id))
        return pubsub


def parse_live_message(message: dict[str, Any]) -> Notification:
    """The notification carried by a pub/sub message from :meth:`NotificationStore.subscribe`."""
    return Notification.model_validate_json(message["data"])
