import pytest
from kombu import Connection

from config.broker import PARTIAL_SUFFIX


def _connection(folder):
    return Connection(
        "filesystem://localhost//",
        transport="config.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


def test_a_message_is_whole_when_it_appears_and_read_back(tmp_path):
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("publish")
        queue.put({"job_ids": [1, 2]})

        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(PARTIAL_SUFFIX)] == []
        assert queue.get(timeout=1).payload == {"job_ids": [1, 2]}
        queue.close()


def test_a_message_still_being_written_is_left_alone(tmp_path):
    half_written = tmp_path / f"1_abc.publish.msg{PARTIAL_SUFFIX}"
    half_written.write_bytes(b"")
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("publish")

        with pytest.raises(queue.Empty):
            queue.get(timeout=0.3)
        queue.close()

    assert half_written.exists()
