"""Throttles and sign-in lockouts hold however many processes serve the site: the API's limit
was counted per process (four gunicorn workers let one token through 1,360 requests against a
1,200-a-minute limit). Here two real server processes on two loopback ports share the test
database and cache, and a client alternates between them."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from c360.api_tokens import api_token_create
from c360.kernel.roles import DATA_STEWARD
from tests.factories import UserFactory
from tests.workers import ROOT, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, headers: dict | None = None, body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


@contextmanager
def _servers(count: int, env: dict[str, str], log_dir: Path) -> Iterator[list[int]]:
    """``count`` separate ``manage.py runserver`` processes (no reloader, no threads shared)."""
    ports = [_free_port() for _ in range(count)]
    processes = []
    try:
        for port in ports:
            log = (log_dir / f"server-{port}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "runserver",
                        "--noreload",
                        "--skip-checks",
                        f"127.0.0.1:{port}",
                    ],
                    cwd=ROOT,
                    env={**subprocess_env(), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 120
        for port, process in zip(ports, processes, strict=True):
            while True:
                assert process.poll() is None, (log_dir / f"server-{port}.log").read_text()
                try:
                    if _request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"server on {port} did not start"
                time.sleep(0.3)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _sign_in(port: int, username: str, password: str) -> int:
    status, headers, page = _request(port, "GET", "/accounts/login/")
    cookie = next(
        value.split(";")[0]
        for name, value in headers
        if name.lower() == "set-cookie" and value.startswith("csrftoken=")
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    return _request(
        port,
        "POST",
        "/accounts/login/",
        body=body,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )[0]


def test_the_api_limit_and_the_sign_in_lockout_hold_across_two_server_processes(role_groups, tmp_path):
    _, key = api_token_create(name="two-servers", role=DATA_STEWARD)
    UserFactory(username="two-servers-user", role=DATA_STEWARD)
    # A limit of 20 a day, and counters of this test's own (prefix) in the shared cache
    env = {"C360_TEST_API_RATE": "20/day", "C360_TEST_CACHE_PREFIX": f"two-servers-{uuid.uuid4().hex[:8]}"}
    with _servers(2, env, tmp_path) as ports:
        # When one token sends 40 requests, alternating between the two processes
        answers: dict[int, list[int]] = {port: [] for port in ports}
        for n in range(40):
            port = ports[n % 2]
            status, headers, _ = _request(
                port, "GET", "/api/v1/parties/", headers={"Authorization": f"Token {key}"}
            )
            answers[port].append(status)
            if status == 429:
                assert int(dict(headers)["Retry-After"]) >= 1
        # Then 20 got through in all, not 20 per process: each process served 10 and refused 10
        assert [answers[port] for port in ports] == [[200] * 10 + [429] * 10] * 2

        # When the wrong password is tried 10 times for one user, alternating processes
        wrong = [_sign_in(ports[n % 2], "two-servers-user", f"guess-{n}") for n in range(10)]
        # Then the tenth locks the user out on both, even with the right password
        assert wrong == [200] * 9 + [429]
        assert [_sign_in(port, "two-servers-user", "pw-for-tests") for port in ports] == [429, 429]


def test_a_counter_in_the_shared_cache_counts_every_increment_of_several_processes(tmp_path):
    # Four processes each add 1 to one counter 150 times at the same moment
    key = f"shared-counter-{uuid.uuid4().hex[:8]}"
    script = (
        "import django, sys; django.setup()\n"
        "from django.core.cache import cache\n"
        f"cache.add({key!r}, 0, timeout=300)\n"
        "for _ in range(150):\n"
        f"    cache.incr({key!r})\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=subprocess_env()) for _ in range(4)
    ]
    assert [p.wait(timeout=240) for p in processes] == [0, 0, 0, 0]
    from django.core.cache import cache

    assert cache.get(key) == 600  # Django's own file cache loses increments here
    cache.delete(key)
