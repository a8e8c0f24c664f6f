import socket

from harness.ports import EPHEMERAL_RANGE, HOST, free_port


def test_free_port_can_be_bound():
    port = free_port()

    with socket.socket() as server:
        server.bind((HOST, port))


def test_free_port_is_not_one_the_kernel_may_give_an_outgoing_connection():
    low, high = map(int, EPHEMERAL_RANGE.read_text().split())

    assert not low <= free_port() <= high
