"""Background jobs that resume by themselves when the worker running them dies.

Celery acknowledges a job's message only when the job ends (``CELERY_TASK_ACKS_LATE``), and a
broker that redelivers unacknowledged messages sends it again: Redis after its visibility
timeout (which must be longer than the longest job, so hours), any broker at once when a
prefork child dies (``CELERY_TASK_REJECT_ON_WORKER_LOST``). That is not enough: the embedded
filesystem broker never redelivers, and hours are too long. So every job task (imports, match
runs and their chunks, bulk merges) also keeps a lease row, ``TaskLease``:

- sent: the lease holds the task's name, arguments and queue (``DurableTask.apply_async``);
- started: the worker takes the lease with one conditional UPDATE (owner: this process, as
  ``host:pid:start time``) and renews ``heartbeat_at`` from a thread every
  ``C360_TASK_HEARTBEAT_SECONDS``; a second copy of the message finds it taken and does nothing;
- ended (done or failed): the lease is deleted; a Celery retry hands it back (owner '');
- recovery (``tasks_recover``, run when any worker starts and every minute by beat): a lease
  whose owner is a process of this machine that no longer exists (known at once), whose
  heartbeat stopped for ``C360_TASK_STALE_SECONDS`` (a process on another machine), or that
  nobody took within ``C360_TASK_UNCLAIMED_SECONDS`` of being due, is taken back with one
  conditional UPDATE, so exactly one recoverer sends the task again.

The task sent again knows it (``DurableTask.resumed``), and the job's own bookkeeping makes
it continue where the dead one stopped: an import after its last committed batch (its rows
and its cursor commit together), a match run with its unfinished chunks. Each row is
imported or merged exactly once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Task
from celery.exceptions import Retry
from celery.utils import uuid
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def _process_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name ([0] is the state, [19] the start
    time); empty where there is no /proc or no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[-1].split()


def _machine() -> str:
    """This machine as far as pids go: the host name and the pid namespace (two containers
    may share a host name, never a pid namespace)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}{namespace}"


def process_identity(pid: int | None = None) -> str:
    """``host:pid:start time``: names one process, even after its pid is reused."""
    pid = pid or os.getpid()
    stat = _process_stat(pid)
    return f"{_machine()}:{pid}:{stat[19] if len(stat) > 19 else ''}"


def process_gone(owner: str) -> bool:
    """Whether the process named by ``process_identity`` is known to have ended: only for a
    process of this machine (another machine's is judged by its heartbeat)."""
    try:
        host, pid_text, started = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != _machine():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    stat = _process_stat(pid)
    if not stat:
        return False  # no /proc: the pid exists, assume it is the same process
    return stat[0] in ("Z", "X") or (bool(started) and len(stat) > 19 and stat[19] != started)


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=getattr(settings, name, default))


def _lease_model():
    from c360.kernel.models import TaskLease

    return TaskLease


class _Heartbeat(threading.Thread):
    """Renews a lease while its task runs, on a database connection of its own (closed after
    every beat, so a job forking worker processes never shares it)."""

    def __init__(self, task_id: str, owner: str) -> None:
        super().__init__(name=f"lease-{task_id[:8]}", daemon=True)
        self.task_id, self.owner, self.stopped = task_id, owner, threading.Event()

    def run(self) -> None:
        interval = _seconds("C360_TASK_HEARTBEAT_SECONDS", 10).total_seconds()
        while not self.stopped.wait(interval):
            try:
                _lease_model().objects.filter(pk=self.task_id, owner=self.owner).update(
                    heartbeat_at=timezone.now()
                )
            except DatabaseError as exc:  # e.g. SQLite busy for longer than its timeout
                logger.warning("heartbeat of task %s failed: %s", self.task_id, exc)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


class DurableTask(Task):
    """A Celery task that resumes by itself when its worker dies (see the module's docstring).
    Its body must be safe to run again: it is, when it continues from committed state."""

    @property
    def resumed(self) -> bool:
        """Whether another process started this very task before and died."""
        return bool(getattr(self.request, "c360_resumed", False))

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ) -> Any:
        if self.app.conf.task_always_eager:
            return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)
        task_id = task_id or uuid()
        due = timezone.now()
        if options.get("countdown"):
            due += timedelta(seconds=float(options["countdown"]))
        elif options.get("eta"):
            due = options["eta"]
        queue = options.get("queue")
        queue = (
            getattr(queue, "name", queue) or getattr(self, "queue", None) or self.app.conf.task_default_queue
        )
        try:
            _lease_model().objects.update_or_create(
                task_id=task_id,
                defaults={
                    "name": self.name,
                    "args": list(args or []),
                    "kwargs": dict(kwargs or {}),
                    "queue": queue or "",
                    "owner": "",
                    "heartbeat_at": None,
                    "sent_at": due,
                },
            )
        except DatabaseError:
            logger.exception("could not record the lease of %s %s; sending it anyway", self.name, task_id)
        return super().apply_async(args, kwargs, task_id, producer, link, link_error, shadow, **options)

    def __call__(self, *args, **kwargs):
        request = self.request
        if request.called_directly:
            return super().__call__(*args, **kwargs)
        if request.is_eager or not request.id:
            return self.run(*args, **kwargs)
        Lease = _lease_model()
        lease = Lease.objects.filter(pk=request.id).first()
        if lease is None:  # sent before leases existed, or a copy of a task that has ended
            return self.run(*args, **kwargs)
        now = timezone.now()
        if lease.owner and not _abandoned(lease, now):
            logger.info(
                "task %s %s is running in %s; this copy does nothing", self.name, request.id, lease.owner
            )
            return None
        me = process_identity()
        if not Lease.objects.filter(pk=lease.pk, owner=lease.owner, attempts=lease.attempts).update(
            owner=me, heartbeat_at=now, attempts=F("attempts") + 1
        ):
            logger.info("task %s %s was taken by another worker", self.name, request.id)
            return None
        request.c360_resumed = lease.attempts > 0
        heartbeat = _Heartbeat(lease.pk, me)
        heartbeat.start()
        retrying = False
        try:
            return self.run(*args, **kwargs)
        except Retry:
            retrying = True  # ``retry`` handed the lease back when it sent the task again
            raise
        finally:
            heartbeat.stop()
            if not retrying:
                Lease.objects.filter(pk=lease.pk, owner=me).delete()


def _abandoned(lease, now) -> bool:
    if lease.owner:
        stale = lease.heartbeat_at is None or lease.heartbeat_at < now - _seconds(
            "C360_TASK_STALE_SECONDS", 120
        )
        return stale or process_gone(lease.owner)
    return lease.sent_at < now - _seconds("C360_TASK_UNCLAIMED_SECONDS", 900)


def tasks_recover(app=None) -> list[str]:
    """Send again every job task whose worker died (or that no worker took in time); each
    is taken back with one conditional UPDATE, so two recoverers never both send it.
    Returns the task ids sent."""
    from celery import current_app

    app = app or current_app
    Lease = _lease_model()
    now, sent = timezone.now(), []
    for lease in Lease.objects.order_by("sent_at"):
        if not _abandoned(lease, now):
            continue
        if not Lease.objects.filter(
            pk=lease.pk, owner=lease.owner, attempts=lease.attempts, sent_at=lease.sent_at
        ).update(owner="", heartbeat_at=None, sent_at=now):
            continue
        logger.warning(
            "task %s %s was abandoned by %s; sending it again",
            lease.name,
            lease.task_id,
            lease.owner or "a lost message",
        )
        app.send_task(
            lease.name, args=lease.args, kwargs=lease.kwargs, task_id=lease.task_id, queue=lease.queue or None
        )
        sent.append(lease.task_id)
    return sent
