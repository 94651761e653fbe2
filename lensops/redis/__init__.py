"""Reaching Redis: URLs and credentials, health checks, and the embedded server lensops starts
itself when no Redis is configured."""
