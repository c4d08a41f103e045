"""E-mail when a refresh fails, or succeeds with warning-level findings.

Two run-status sensors on `refresh_all` (scheduled, sensor-launched and manual runs alike),
running by default: the daemon evaluates them every 30 s and each run is reported once. The
mail's first line is the run's first finding (the rejected source with its file, row and
column, or the failed check and why: boligsocial/runs/findings.py, the same lines `make run`
prints), followed by a link to the run in the Dagster UI.

Recipients, sender and the UI's address are the [alerts] section of boligsocial.toml; the SMTP
server is the `smtp` resource (boligsocial/defs/resources.py), from the environment
(`dagster.EnvVar`), its password never from a file:

    BOLIGSOCIAL_SMTP_HOST      no host: no mail (the sensors say so in their ticks)
    BOLIGSOCIAL_SMTP_PORT      default 587
    BOLIGSOCIAL_SMTP_STARTTLS  true (default) or false (a relay on the same machine)
    BOLIGSOCIAL_SMTP_USER      optional; with it, BOLIGSOCIAL_SMTP_PASSWORD

A mail is sent within `SEND_DEADLINE_SECONDS` as a whole: smtplib's timeout is per read, so a
server that answers a byte at a time could otherwise keep the sensor's evaluation for ever.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
)

from boligsocial.configuration import config
from boligsocial.defs.automation.jobs import refresh_all
from boligsocial.defs.resources import SmtpResource
from boligsocial.runs.findings import stored_run_findings

SEND_DEADLINE_SECONDS = 60.0  # the whole conversation, connect to QUIT


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    starttls: bool
    user: str
    password: str
    deadline_seconds: float = SEND_DEADLINE_SECONDS

    @classmethod
    def configured(cls, resource: SmtpResource) -> Smtp | None:
        """The server the `smtp` resource names; None without a host (no mail)."""
        if not resource.host.strip():
            return None
        starttls = resource.starttls.strip().lower()
        if starttls not in ("true", "false"):
            raise ValueError(f"BOLIGSOCIAL_SMTP_STARTTLS must be true or false, not {starttls!r}")
        return cls(
            host=resource.host.strip(),
            port=resource.port,
            starttls=starttls == "true",
            user=resource.user.strip(),
            password=resource.password,
        )

    def __repr__(self) -> str:  # never the password, whoever logs this
        return f"Smtp({self.host}:{self.port}, starttls={self.starttls}, user={self.user!r})"

    def send(self, message: EmailMessage) -> None:
        """Send `message`, or raise TimeoutError when the server has not finished by the
        deadline: a timer then shuts the connection down, which ends any read it waits in."""
        server = smtplib.SMTP(timeout=min(30.0, self.deadline_seconds))
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            if server.sock is not None:  # the TLS socket after STARTTLS: the same connection
                with contextlib.suppress(OSError):  # already closed
                    server.sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.deadline_seconds, cut)
        timer.start()
        try:
            with server:
                server.connect(self.host, self.port)
                if self.starttls:
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(self.user, self.password)
                server.send_message(message)
        except (OSError, smtplib.SMTPException):
            if expired.is_set():
                raise TimeoutError(
                    f"the SMTP server {self.host}:{self.port} did not take the mail within "
                    f"{self.deadline_seconds:g} s"
                ) from None
            raise
        finally:
            timer.cancel()


def run_url(alerts: config.Alerts, run_id: str) -> str:
    return f"{alerts.webserver_url.rstrip('/')}/runs/{run_id}"


def compose(
    alerts: config.Alerts, run_id: str, headline: str, findings: list[str], warnings: list[str]
) -> EmailMessage:
    """The mail: the headline as subject and first line, the other findings, the run's link."""
    lines = [headline, ""]
    if findings:
        lines += ["Fejl (errors):", *(f"  - {line}" for line in findings), ""]
    if warnings:
        lines += ["Advarsler (warnings):", *(f"  - {line}" for line in warnings), ""]
    lines += [f"Kørslen i Dagster (the run): {run_url(alerts, run_id)}"]
    message = EmailMessage()
    # A header holds one line: a line break from a delivered file name would fail the mail.
    message["Subject"] = " ".join(f"Boligsocial: {headline}".split())
    message["From"] = alerts.sender
    message["To"] = ", ".join(alerts.recipients)
    message.set_content("\n".join(lines) + "\n")
    return message


def _deliver(
    context: RunStatusSensorContext, smtp_resource: SmtpResource, message: EmailMessage
) -> SkipReason | None:
    alerts = config.load().alerts
    smtp = Smtp.configured(smtp_resource)
    if not alerts.recipients or smtp is None:
        return SkipReason(
            f"Not mailed ({'no [alerts] recipients' if not alerts.recipients else 'no SMTP host'}"
            f"): {message['Subject']}"
        )
    smtp.send(message)
    context.log.info(f"Mailed {', '.join(alerts.recipients)} via {smtp!r}: {message['Subject']}")
    return None


@run_failure_sensor(
    name="refresh_failure_mail",
    monitored_jobs=[refresh_all],
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Mails the [alerts] recipients when a refresh fails: the rejected source (file, row, "
        "column) or the failed check and why, and a link to the run."
    ),
)
def refresh_failure_mail(context: RunFailureSensorContext, smtp: SmtpResource):
    run_id = context.dagster_run.run_id
    findings, warnings = stored_run_findings(context.instance, run_id)
    first = findings[0] if findings else context.failure_event.message or "the run failed"
    headline = f"opdateringen fejlede (refresh failed): {first}"
    alerts = config.load().alerts
    return _deliver(context, smtp, compose(alerts, run_id, headline, findings[1:], warnings))


@run_status_sensor(
    name="refresh_warnings_mail",
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_all],
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Mails the [alerts] recipients when a refresh succeeded with failed warning-level "
        "checks, so data problems reach the people who deliver the files."
    ),
)
def refresh_warnings_mail(context: RunStatusSensorContext, smtp: SmtpResource):
    run_id = context.dagster_run.run_id
    _, warnings = stored_run_findings(context.instance, run_id)
    if not warnings:
        return SkipReason(f"Run {run_id} succeeded without warnings.")
    count = f"{len(warnings)} advarsel(er)"
    headline = f"opdateret med {count} (refreshed with warnings): {warnings[0]}"
    alerts = config.load().alerts
    return _deliver(context, smtp, compose(alerts, run_id, headline, [], warnings[1:]))
