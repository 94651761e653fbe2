"""In-app notifications: storage, unread-first listing, read marks, cap and TTL, pub/sub, jobs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lensops.config import ConfigError, load_settings
from lensops.engine import keys
from lensops.engine.registry import JobContext, PayloadError, PermanentError, get_job_type
from lensops.jobs import notification as notification_jobs
from lensops.notify.models import Notification
from lensops.notify.settings import NotificationSettings, load_notification_settings
from lensops.notify.store import InvalidUserId, NotificationStore, parse_live_message
from tests.waiting import wait_for

EXAMPLES = {
    "notification.system": notification_jobs.SYSTEM_EXAMPLE,
    "notification.order": notification_jobs.ORDER_EXAMPLE,
    "notification.ai_insight": notification_jobs.AI_INSIGHT_EXAMPLE,
    "notification.marketplace": notification_jobs.MARKETPLACE_EXAMPLE,
}


def make(notification_id: str, user_id: str = "u-1", seconds_ago: float = 0, **fields: Any) -> Notification:
    return Notification(
        id=notification_id,
        kind=fields.pop("kind", "system"),
        user_id=user_id,
        title=fields.pop("title", f"title {notification_id}"),
        body=fields.pop("body", "body"),
        priority=fields.pop("priority", "medium"),
        created_at=datetime.now(UTC) - timedelta(seconds=seconds_ago),
        **fields,
    )


def run(type_name: str, payload: dict[str, Any], connection: Any, job_id: str, settings: Any = None) -> Any:
    job_type = get_job_type(type_name)
    context = JobContext(job_id, type_name, "notification", 1, connection, settings)
    return job_type.handler(job_type.validate(payload), context)


def test_listing_is_unread_first_then_newest_first(connection):
    store = NotificationStore(connection)
    for number, age in enumerate([50, 40, 30, 20, 10]):
        store.add(make(f"n{number}", seconds_ago=age))
    assert store.mark_read("u-1", ["n4", "n1"]).marked == 2

    listed = store.notifications("u-1")
    assert [(n.id, n.read) for n in listed] == [
        ("n3", False),
        ("n2", False),
        ("n0", False),
        ("n4", True),
        ("n1", True),
    ]
    assert [n.id for n in store.notifications("u-1", unread_only=True)] == ["n3", "n2", "n0"]
    assert [n.id for n in store.notifications("u-1", limit=2)] == ["n3", "n2"]
    assert store.notifications("u-1", limit=0) == []
    assert store.unread_count("u-1") == 3
    assert store.notifications("someone-else") == [] and store.unread_count("someone-else") == 0


def test_mark_read_reports_unknown_ids_and_is_idempotent(connection):
    store = NotificationStore(connection)
    store.add(make("a"))
    store.add(make("b"))
    first = store.mark_read("u-1", ["a", "missing", "a"])
    assert (first.marked, first.unknown) == (1, ["missing"])
    again = store.mark_read("u-1", ["a"])
    assert (again.marked, again.unknown) == (0, [])
    assert store.mark_read("u-1", []).marked == 0
    # Another user's id is unknown to this user.
    store.add(make("c", user_id="u-2"))
    assert store.mark_read("u-1", ["c"]).unknown == ["c"]
    assert store.unread_count("u-2") == 1


def test_mark_all_read(connection):
    store = NotificationStore(connection)
    for number in range(3):
        store.add(make(f"n{number}"))
    assert store.mark_all_read("u-1") == 3
    assert store.unread_count("u-1") == 0
    assert store.mark_all_read("u-1") == 0
    assert all(n.read for n in store.notifications("u-1"))


def test_adding_the_same_id_twice_changes_nothing(connection):
    store = NotificationStore(connection)
    assert store.add(make("job-7")).created is True
    store.mark_read("u-1", ["job-7"])
    again = store.add(make("job-7", title="changed"))
    assert (again.created, again.receivers) == (False, 0)
    listed = store.notifications("u-1")
    assert [(n.title, n.read) for n in listed] == [("title job-7", True)]  # still read, not duplicated


def test_cap_keeps_the_newest(connection):
    store = NotificationStore(connection, NotificationSettings(max_per_user=3))
    for number in range(5):
        store.add(make(f"n{number}", seconds_ago=10 - number))
    assert [n.id for n in store.notifications("u-1")] == ["n4", "n3", "n2"]
    assert store.unread_count("u-1") == 3
    assert connection.hlen(keys.notification_items("u-1")) == 3


def test_notifications_older_than_the_ttl_are_dropped_and_keys_expire(connection):
    store = NotificationStore(connection, NotificationSettings(ttl=60))
    store.add(make("old", seconds_ago=120))  # already past its TTL: never listed nor counted
    store.add(make("fresh"))
    assert [n.id for n in store.notifications("u-1")] == ["fresh"]
    assert store.unread_count("u-1") == 1
    assert connection.hlen(keys.notification_items("u-1")) == 1  # pruned on add
    for key in (keys.notification_items("u-1"), keys.notification_timeline("u-1"), keys.notification_unread("u-1")):
        assert 0 < connection.pttl(key) <= 60_000


def test_listing_hides_what_aged_past_the_ttl_since_the_last_add(connection):
    store = NotificationStore(connection, NotificationSettings(ttl=1))
    store.add(make("brief", seconds_ago=0.5))
    assert store.unread_count("u-1") == 1
    wait_for(lambda: store.unread_count("u-1") == 0, "the notification to pass its one-second TTL", timeout=5)
    assert store.notifications("u-1") == []


def test_new_notifications_are_published_to_the_users_channel(connection):
    store = NotificationStore(connection)
    live = store.subscribe("u-1")
    other = store.subscribe("u-2")
    try:
        assert live.get_message(timeout=1) is None  # the subscribe confirmation is skipped
        added = store.add(make("n1", priority="urgent", link="/orders/1"))
        assert added.receivers == 1
        message = live.get_message(timeout=2)
        assert message is not None and message["channel"] == keys.notification_channel("u-1").encode()
        received = parse_live_message(message)
        assert (received.id, received.priority, received.link) == ("n1", "urgent", "/orders/1")
        assert other.get_message(timeout=0.2) is None
        store.add(make("n1"))  # a duplicate is not published again
        assert live.get_message(timeout=0.2) is None
    finally:
        live.close()
        other.close()


@pytest.mark.parametrize("user_id", ["", "has space", "{tag}", "x" * 129, "new\nline"])
def test_bad_user_ids_are_refused(connection, user_id):
    store = NotificationStore(connection)
    with pytest.raises(InvalidUserId):
        store.unread_count(user_id)
    with pytest.raises(InvalidUserId):
        store.notifications(user_id)


@pytest.mark.parametrize("type_name", sorted(EXAMPLES))
def test_each_job_type_stores_and_publishes_one_notification(type_name, connection):
    payload = EXAMPLES[type_name]
    user = payload["recipient"]["user_id"]
    store = NotificationStore(connection)
    live = store.subscribe(user)
    try:
        live.get_message(timeout=0.2)
        result = run(type_name, payload, connection, job_id=f"{type_name}-1")
        assert result == {"id": f"{type_name}-1", "user_id": user, "created": True, "receivers": 1}
        published = parse_live_message(live.get_message(timeout=2))
    finally:
        live.close()
    (stored,) = store.notifications(user)
    assert stored.model_dump(exclude={"read"}) == published.model_dump(exclude={"read"})
    assert stored.kind == type_name.split(".", 1)[1]
    assert (stored.title, stored.body, stored.link, stored.priority) == (
        payload["title"],
        payload["body"],
        payload["link"],
        payload["priority"],
    )
    assert stored.company_id == payload["recipient"]["company_id"]
    common = {"recipient", "title", "body", "link", "priority"}
    assert stored.data == {key: value for key, value in payload.items() if key not in common}


def test_a_retried_job_does_not_notify_twice(connection):
    first = run("notification.order", notification_jobs.ORDER_EXAMPLE, connection, job_id="job-9")
    again = run("notification.order", notification_jobs.ORDER_EXAMPLE, connection, job_id="job-9")
    assert (first["created"], again["created"]) == (True, False)
    assert NotificationStore(connection).unread_count("u-2210") == 1


def test_priority_is_the_payloads_and_defaults_to_medium():
    job_type = get_job_type("notification.system")
    assert job_type.validate(notification_jobs.SYSTEM_EXAMPLE).priority == "high"
    minimal = {"recipient": {"user_id": "u-1"}, "title": "Hello", "body": "World"}
    assert job_type.validate(minimal).priority == "medium"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"priority": "critical"}, "priority"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "//evil.example/phish"}, "link"),
        ({"link": "https://app.example/a b"}, "link"),
        ({"title": "two\nlines"}, "title"),
        ({"title": ""}, "title"),
        ({"body": "x" * 4001}, "body"),
        ({"recipient": {"user_id": "u 1"}}, "recipient.user_id"),
        ({"recipient": {"company_id": "c-1"}}, "recipient.user_id"),
        ({"status": "teleported"}, "status"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_payloads_name_the_field(change, where):
    payload = {**copy.deepcopy(notification_jobs.ORDER_EXAMPLE), **change}
    with pytest.raises(PayloadError) as caught:
        get_job_type("notification.order").validate(payload)
    assert where in dict(caught.value.problems)


def test_examples_survive_the_json_round_trip_the_producer_makes():
    for type_name, example in EXAMPLES.items():
        job_type = get_job_type(type_name)
        assert job_type.queue == "notification"
        model = job_type.validate(example)
        assert job_type.validate(model.model_dump(mode="json")) == model


def test_settings_table(tmp_path, connection):
    path = tmp_path / "config.toml"
    path.write_text('[notification]\nmax_per_user = 2\nttl = "2h"\n')
    parsed = load_notification_settings(load_settings(path, environ={}))
    assert (parsed.max_per_user, parsed.ttl) == (2, 7200)
    assert load_notification_settings(None) == NotificationSettings()

    path.write_text("[notification]\nmax_per_user = 0\ncap = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_notification_settings(load_settings(path, environ={}))
    assert "notification.max_per_user" in str(caught.value) and "notification.cap: unknown key" in str(caught.value)

    # A job with a broken table fails permanently, naming the key.
    with pytest.raises(PermanentError, match=r"notification\.cap"):
        run("notification.system", notification_jobs.SYSTEM_EXAMPLE, connection, "j", load_settings(path, environ={}))


def test_jobs_use_the_configured_cap(tmp_path, connection):
    path = tmp_path / "config.toml"
    path.write_text("[notification]\nmax_per_user = 1\n")
    settings = load_settings(path, environ={})
    for number in range(3):
        run("notification.system", notification_jobs.SYSTEM_EXAMPLE, connection, f"j{number}", settings)
    assert [n.id for n in NotificationStore(connection).notifications("u-1042")] == ["j2"]


def test_stored_json_is_compact_and_self_describing(connection):
    NotificationStore(connection).add(make("n1", data={"order_number": "LO-1"}))
    stored = json.loads(connection.hget(keys.notification_items("u-1"), "n1"))
    assert stored["data"] == {"order_number": "LO-1"} and "read" not in stored


def test_urgent_starts_before_a_backlog_of_low_fifo_within_a_priority(make_settings, connection):
    from lensops.engine.producer import Producer
    from tests.conftest import run_burst

    settings = make_settings(
        queues={"notification": {"rate": None, "backoff": ["0.1s"]}}, notification={"max_per_user": 2000}
    )
    producer = Producer(settings, connection)
    low = {**notification_jobs.AI_INSIGHT_EXAMPLE, "priority": "low"}
    urgent = {**notification_jobs.SYSTEM_EXAMPLE, "priority": "urgent"}
    low_ids = [producer.enqueue("notification.ai_insight", low).id for _ in range(1000)]
    urgent_id = producer.enqueue("notification.system", urgent).id  # no priority=: the payload's applies

    assert run_burst(settings, connection, "notification") == 1001
    from rq.job import Job
    from rq.serializers import JSONSerializer

    # When each job started (rq's own record: the notification's time is the event's, not this).
    jobs = Job.fetch_many([urgent_id, *low_ids], connection=connection, serializer=JSONSerializer)
    started = {job.id: job.started_at for job in jobs if job is not None}
    assert len(started) == 1001
    assert started[urgent_id] < min(started[job_id] for job_id in low_ids)
    assert [started[job_id] for job_id in low_ids] == sorted(started[job_id] for job_id in low_ids)
    # The inbox lists by event time: the urgent one, enqueued last, is the newest.
    inbox = NotificationStore(connection, load_notification_settings(settings)).notifications("u-1042", limit=2000)
    assert max(inbox, key=lambda n: n.created_at).id == urgent_id
