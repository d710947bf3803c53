"""A few hundred generated records per importer (hypothesis; `benchmarks/faults.py --fuzz-records` runs
10,000+): valid and hostile lines mixed, every line imported or skipped by number, every valid record's
prompt stored, nothing added by a second import, and no traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from backend.store import Store
from tests.support.fuzz_records import FORMATS, fuzz_file, import_and_check

RECORDS_PER_FILE = 40
FILES = 5


@pytest.mark.parametrize("format", FORMATS)
def test_generated_records_are_imported_or_skipped_never_a_traceback(tmp_path_factory, format):
    store = Store.create(tmp_path_factory.mktemp("fuzz") / "project")
    problems: list[str] = []
    counter = iter(range(10**6))

    @settings(max_examples=FILES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_file(format, RECORDS_PER_FILE))
    def one_file(records):
        path = store.project_dir / f"fuzz-{next(counter)}.jsonl"
        path.write_bytes(b"".join(r.line + b"\n" for r in records))
        tally = import_and_check(store, path, records, format, problems)
        assert (tally.lost, tally.duplicated, tally.malformed, tally.tracebacks) == (0, 0, 0, 0), problems

    try:
        one_file()
    finally:
        store.close()
