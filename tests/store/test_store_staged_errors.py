"""A statement that fails while an Arrow table is staged inside a transaction raises its own error, not
DuckDB's "Current transaction is aborted" from the clean-up (which hid the real cause)."""

import duckdb
import pyarrow as pa
import pytest

from backend.store import Store


def test_the_failing_statements_error_is_the_one_raised(tmp_path):
    with Store.create(tmp_path / "p") as store:
        db = store._db
        with pytest.raises(duckdb.Error) as raised:
            with db.transaction():
                with db.staged("incoming_things", pa.table({"id": ["a"]})):
                    db.execute("INSERT INTO no_such_table SELECT id FROM incoming_things")
        assert "no_such_table" in str(raised.value)
        assert "aborted" not in str(raised.value)
        assert store.stats()["prompts"] == 0  # the project still reads after the rollback
