"""Inboxes ordered by when events happened, and a cap that drops what matters least."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lensops.jobs import notification as notification_jobs
from lensops.notify.models import Notification
from lensops.notify.settings import NotificationSettings
from lensops.notify.store import NotificationStore
from tests.conftest import run_burst

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def order_event(status: str, at: datetime | None, priority: str) -> dict[str, Any]:
    payload = {
        **notification_jobs.ORDER_EXAMPLE,
        "title": f"Order LO-1 {status}",
        "status": status,
        "priority": priority,
        "order_number": "LO-1",
    }
    payload.pop("previous_status")
    if at is not None:
        payload["created_at"] = at.isoformat()
    return payload


def test_events_list_in_the_order_they_happened_whatever_their_priority(make_settings, connection) -> None:
    from lensops.engine.producer import Producer

    settings = make_settings(queues={"notification": {"rate": None}})
    producer = Producer(settings, connection)
    now = datetime.now(UTC)
    # Received first (low), then shipped (urgent): the worker runs "shipped" first.
    producer.enqueue("notification.order", order_event("received", now - timedelta(minutes=5), "low"))
    producer.enqueue("notification.order", order_event("shipped", now - timedelta(minutes=1), "urgent"))
    assert run_burst(settings, connection, "notification") == 2
    listed = NotificationStore(connection).notifications("u-2210")
    assert [n.title for n in listed] == ["Order LO-1 shipped", "Order LO-1 received"]


def test_created_at_is_stamped_at_enqueue_not_when_the_job_runs(make_settings, connection) -> None:
    from lensops.engine.producer import Producer

    settings = make_settings(queues={"notification": {"rate": None}})
    producer = Producer(settings, connection)
    before = datetime.now(UTC)
    job = producer.enqueue("notification.order", order_event("received", None, "medium"))
    after_enqueue = datetime.now(UTC)
    assert run_burst(settings, connection, "notification") == 1
    (stored,) = NotificationStore(connection).notifications("u-2210")
    assert stored.id == job.id
    assert before <= stored.created_at <= after_enqueue  # not the (later) time the worker ran it


def test_a_naive_event_time_is_taken_as_utc() -> None:
    from lensops.engine.registry import get_job_type

    payload = {**order_event("received", None, "low"), "created_at": "2026-03-02T09:00:00"}
    model = get_job_type("notification.order").validate(payload)
    assert model.created_at == T0


def notification(nid: str, minutes: int, priority: str) -> Notification:
    return Notification(
        id=nid,
        kind="system",
        user_id="u-1",
        title=nid,
        body="b",
        priority=priority,
        created_at=datetime.now(UTC) - timedelta(minutes=100 - minutes),
    )


def test_the_cap_drops_read_low_priority_items_first_and_never_unread_urgent(connection) -> None:
    store = NotificationStore(connection, NotificationSettings(max_per_user=10))
    for number in range(10):  # ten urgent, unread: what used to be dropped first
        store.add(notification(f"urgent{number}", number, "urgent"))
    for number, priority in enumerate(["low", "high", "medium"]):
        store.add(notification(f"read-{priority}", 10 + number, priority))
        store.mark_read("u-1", [f"read-{priority}"])
    # Over the cap: the read ones went, low before medium before high.
    kept = {n.id for n in store.notifications("u-1", limit=100)}
    assert {f"urgent{number}" for number in range(10)} <= kept
    assert not kept & {"read-low", "read-medium", "read-high"}
    for number in range(5):  # more unread of lower priority: they give way, the urgent stay
        store.add(notification(f"news{number}", 20 + number, "medium"))
    kept = {n.id for n in store.notifications("u-1", limit=100)}
    assert {f"urgent{number}" for number in range(10)} <= kept
    assert len(kept) == 10


def test_eviction_order_in_detail(connection) -> None:
    store = NotificationStore(connection, NotificationSettings(max_per_user=4))
    store.add(notification("old-read-high", 1, "high"))
    store.add(notification("old-unread-low", 2, "low"))
    store.add(notification("new-read-low", 3, "low"))
    store.add(notification("unread-medium", 4, "medium"))
    store.mark_read("u-1", ["old-read-high", "new-read-low"])
    order = []
    for number in range(4):
        before = {n.id for n in store.notifications("u-1", limit=100)}
        store.add(notification(f"fresh-urgent{number}", 10 + number, "urgent"))
        after = {n.id for n in store.notifications("u-1", limit=100)}
        order += sorted(before - after)
    # Read low, read high, then unread low, unread medium: never the urgent ones being added.
    assert order == ["new-read-low", "old-read-high", "old-unread-low", "unread-medium"]
    assert {n.id for n in store.notifications("u-1")} == {f"fresh-urgent{n}" for n in range(4)}


def test_unread_urgent_items_may_exceed_the_cap(connection) -> None:
    store = NotificationStore(connection, NotificationSettings(max_per_user=2))
    for number in range(3):
        store.add(notification(f"u{number}", number, "urgent"))
    assert store.unread_count("u-1") == 3  # none dropped; the next read ones will go first
    store.mark_all_read("u-1")
    store.add(notification("later", 5, "low"))
    assert len(store.notifications("u-1", limit=100)) == 2
