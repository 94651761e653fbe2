"""In-app notifications: stored per user in Redis, published live, read by the host app and the CLI.

The storage API is :class:`lensops.notify.store.NotificationStore`; the job types that feed it are
in :mod:`lensops.jobs.notification`.
"""
