"""The [email] table: defaults, environment overrides, paths, and errors that name the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lensops.config import ConfigError, Settings, load_settings
from lensops.email.settings import ENV_OVERRIDES, load_email_settings
from lensops.engine.registry import JobContext, PermanentError, get_job_type
from lensops.jobs import email as email_jobs


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in ENV_OVERRIDES:
        monkeypatch.delenv(variable, raising=False)
    yield


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(f"[redis]\ndata_dir = {json.dumps(str(tmp_path / 'data'))}\n{text}")
    return load_settings(path, environ={})


def test_defaults_write_files_into_the_data_dirs_outbox(tmp_path):
    email = load_email_settings(settings_from(tmp_path, ""), environ={})
    assert email.transport == "file"
    assert email.outbox == tmp_path / "data" / "outbox"
    assert email.smtp.security == "starttls" and email.smtp.effective_port == 587
    assert email.record_ttl == 7 * 86400  # the email queue's keep_failed


def test_file_values_relative_paths_and_queue_retention(tmp_path):
    settings = settings_from(
        tmp_path,
        """
[queues.email]
keep_failed = "2d"
[email]
transport = "smtp"
from_address = "Lens Lab <orders@lab.example>"
reply_to = "care@lab.example"
templates_dir = "my-templates"
outbox = "/var/spool/lensops"
[email.smtp]
host = "relay.lab.example"
security = "tls"
timeout = "5s"
ca_file = "certs/relay-ca.pem"
""",
    )
    email = load_email_settings(settings, environ={})
    assert email.transport == "smtp"
    assert (email.from_address.name, email.from_address.email) == ("Lens Lab", "orders@lab.example")
    assert email.reply_to is not None and email.reply_to.email == "care@lab.example"
    assert email.templates_dir == tmp_path / "my-templates"
    assert email.outbox == Path("/var/spool/lensops")
    assert email.smtp.host == "relay.lab.example" and email.smtp.effective_port == 465
    assert email.smtp.timeout == 5.0
    assert email.smtp.ca_file == tmp_path / "certs" / "relay-ca.pem"
    assert email.record_ttl == 2 * 86400


def test_environment_wins_over_the_file(tmp_path):
    settings = settings_from(
        tmp_path,
        '[email]\ntransport = "file"\n[email.smtp]\nhost = "file-host"\nport = 25\nusername = "file-user"\n',
    )
    environ = {
        "LENSOPS_EMAIL_TRANSPORT": "smtp",
        "LENSOPS_SMTP_HOST": "env-host",
        "LENSOPS_SMTP_PORT": "2525",
        "LENSOPS_SMTP_USERNAME": "env-user",
        "LENSOPS_SMTP_PASSWORD": "env-secret",
        "LENSOPS_EMAIL_OUTBOX": str(tmp_path / "env-outbox"),
    }
    email = load_email_settings(settings, environ=environ)
    assert email.transport == "smtp"
    assert (email.smtp.host, email.smtp.port, email.smtp.username) == ("env-host", 2525, "env-user")
    assert email.smtp.password is not None and email.smtp.password.get_secret_value() == "env-secret"
    assert "env-secret" not in repr(email)  # secrets stay out of logs and tracebacks
    assert email.outbox == tmp_path / "env-outbox"


@pytest.mark.parametrize(
    ("table", "environ", "expected"),
    [
        ('[email]\ntransprot = "smtp"\n', {}, "email.transprot: unknown key"),
        ('[email]\ntransport = "pigeon"\n', {}, "email.transport: Input should be 'smtp' or 'file'"),
        ('[email.smtp]\nsecurity = "ssl"\n', {}, "email.smtp.security"),
        ("[email.smtp]\nport = 70000\n", {}, "email.smtp.port"),
        ("", {"LENSOPS_SMTP_PORT": "twenty-five"}, "email.smtp.port"),
        ('[email]\nfrom_address = "nobody"\n', {}, "email.from_address"),
        ('[email]\nsmtp = "relay"\n', {}, "email.smtp: expected a table"),
        ('[email]\nrecord_ttl = "1d"\n', {}, "set queues.email.keep_failed"),
        ('[email.smtp]\ntimeout = "soon"\n', {}, "email.smtp.timeout"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path, table, environ, expected):
    with pytest.raises(ConfigError) as caught:
        load_email_settings(settings_from(tmp_path, table), environ=environ)
    message = str(caught.value)
    assert expected in message
    assert str(tmp_path / "config.toml") in message


def test_a_job_with_unusable_configuration_fails_permanently(tmp_path, connection):
    settings = settings_from(tmp_path, '[email.smtp]\nsecurity = "ssl"\n')
    job_type = get_job_type("email.general")
    context = JobContext("job-1", job_type.name, "email", 1, connection, settings)
    with pytest.raises(PermanentError, match=r"email\.smtp\.security"):
        job_type.handler(job_type.validate(email_jobs.GENERAL_EXAMPLE), context)


def test_without_settings_the_defaults_and_environment_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("LENSOPS_EMAIL_OUTBOX", str(tmp_path / "box"))
    email = load_email_settings(None)
    assert email.transport == "file" and email.outbox == tmp_path / "box"
