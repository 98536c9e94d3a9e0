"""Large jobs standardize in a pool of processes; the result is the same as in one process."""

from __future__ import annotations

import pytest

from parties.models import ContactPointEmail, DataQualityIssue, ImportRejection, Party, SourceRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _file(rows: int, *, changed: bool = False) -> str:
    lines = ["source_key,given_name,family_name,email,phone,country"]
    for i in range(rows):
        family = f"Changed{i}" if changed and i % 10 == 0 else f"Family{i}"
        email = "broken@@x" if i % 50 == 0 else f"p{i}@example.com"
        lines.append(f"k{i:05d},Given{i},{family},{email},+1 415 555 {i % 10000:04d},US")
    lines.append("k00007,Dup,Licate,dup@example.com,,US")  # a repeated key
    lines.append(",No,Key,nokey@example.com,,US")  # no key
    return "\n".join(lines) + "\n"


def test_a_parallel_import_gives_the_same_result_as_a_sequential_one(run_import, settings, monkeypatch):
    import billiard.pool

    pools = []

    class CountedPool(billiard.pool.Pool):
        def __init__(self, *args, **kwargs):
            pools.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(billiard.pool, "Pool", CountedPool)
    settings.C360_IMPORT_PROCESSES = 2
    settings.C360_IMPORT_PARALLEL_MIN_ROWS = 0

    job = run_import(_file(3000), batch_size=250)

    assert (job.status, job.rows_read, job.rows_created, job.rows_rejected) == ("succeeded", 3002, 3000, 2)
    assert SourceRecord.objects.count() == Party.objects.count() == 3000
    assert ContactPointEmail.objects.filter(validity="invalid").count() == 60
    assert DataQualityIssue.objects.filter(job=job, field="email").count() == 60
    assert set(ImportRejection.objects.values_list("line", flat=True)) == {3002, 3003}
    assert Party.objects.get(given_name="Given42").phones.get().normalized == "+14155550042"
    assert pools == [(2,)]  # the rows really went through a pool of two processes

    # a second parallel run of the file with every tenth row changed updates exactly those
    job = run_import(_file(3000, changed=True), batch_size=250)
    assert (job.rows_created, job.rows_updated, job.rows_unchanged, job.rows_rejected) == (0, 300, 2700, 2)
    assert Party.objects.filter(family_name__startswith="Changed").count() == 300
