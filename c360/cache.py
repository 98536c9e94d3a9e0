"""The cache every process of one machine shares when there is no Redis (the embedded default).

API throttles, the login lockout's helpers and "refresh the dashboard soon" must be counted
once for all web workers and the Celery worker, not once per process as Django's local-memory
cache does: with four gunicorn workers a 1,200-a-minute token got through 1,360 requests in
30 seconds. Redis (``REDIS_URL``) is that shared cache in production; without it this file
cache under ``var/`` is.

Why files rather than Django's ``DatabaseCache``: the embedded database is SQLite, which lets
one process write at a time; a cache in it would make every API request wait for the write
lock an import holds while it commits a batch. Files need no table and no migration.

Django's ``FileBasedCache`` writes each entry atomically (a temporary file renamed over the
old one), but its ``add`` and ``incr`` read and then write, so two processes can both add a key
or both count the same increment. Here they run under an exclusive lock on one file, so a
counter that several processes increase is exact; ``incr`` keeps the entry's expiry (Django's
default ``incr`` would reset it to the default timeout). Expired entries are removed before any
live one is culled, so live counters are not dropped while the directory holds old ones.
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks
from django.core.files.move import file_move_safe


class SharedFileCache(FileBasedCache):
    lock_name = ".lock"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._createdir()
        with open(os.path.join(self._dir, self.lock_name), "a+b") as lock_file:
            locks.lock(lock_file, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock_file)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None) -> int:
        """Add ``delta`` to a stored number, atomically across processes, keeping its expiry
        (``decr`` calls this with ``-delta``). A missing or expired key raises ``ValueError``."""
        fname = self._key_to_file(key, version)
        with self._locked():
            try:
                with open(fname, "rb") as f:
                    expiry = self._read_expiry(f)
                    if expiry is not None and expiry < time.time():
                        raise FileNotFoundError(fname)
                    value = pickle.loads(zlib.decompress(f.read()))  # noqa: S301 (our own files)
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found.") from None
            value += delta
            self._write_file(fname, expiry, value)
            return value

    @staticmethod
    def _read_expiry(f) -> float | None:
        try:
            return pickle.load(f)  # noqa: S301 (files this cache wrote, as Django's file cache)
        except EOFError:
            return 0.0  # an empty file is an expired entry

    def _write_file(self, fname: str, expiry: float | None, value) -> None:
        fd, tmp_path = tempfile.mkstemp(dir=self._dir)
        renamed = False
        try:
            with open(fd, "wb") as f:
                f.write(pickle.dumps(expiry, self.pickle_protocol))
                f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
            file_move_safe(tmp_path, fname, allow_overwrite=True)
            renamed = True
        finally:
            if not renamed:
                os.remove(tmp_path)

    def _cull(self) -> None:
        """Over ``MAX_ENTRIES``: first remove the expired entries, and only if that is not
        enough a random share of the rest (Django's file cache removes a random share at once)."""
        filelist = self._list_cache_files()
        if len(filelist) < self._max_entries:
            return
        now = time.time()
        live = []
        for fname in filelist:
            try:
                with open(fname, "rb") as f:
                    expiry = self._read_expiry(f)
            except FileNotFoundError:
                continue
            if expiry is not None and expiry < now:
                self._delete(fname)
            else:
                live.append(fname)
        if len(live) < self._max_entries:
            return
        if self._cull_frequency == 0:
            self.clear()
            return
        for fname in random.sample(live, int(len(live) / self._cull_frequency)):
            self._delete(fname)
