"""The dispatcher's pipe reader: whole messages only, never blocking, across partial writes."""

from __future__ import annotations

import multiprocessing as mp
import os
import struct

from poolside.backends._pipes import FrameReader, Poller


def _pipe():
    r, w = mp.Pipe(duplex=False)
    return r, w, FrameReader(r)


def test_reads_every_whole_message_written_so_far_in_order():
    r, w, reader = _pipe()
    payloads = [b"", b"a", b"x" * 20_000, b"y" * 70]  # one above send_bytes' 16 KiB split
    for p in payloads:
        w.send_bytes(p)
    assert reader.read() == (payloads, False)
    assert reader.read() == ([], False)  # nothing more, and it does not block


def test_a_half_written_message_waits_without_blocking_and_completes_later():
    r, w, reader = _pipe()
    frame = struct.pack("!i", 10) + b"0123456789"
    os.write(w.fileno(), frame[:7])  # a worker stopped in the middle of a message
    assert reader.read() == ([], False)
    os.write(w.fileno(), frame[7:] + struct.pack("!i", 2) + b"ok")
    assert reader.read() == ([b"0123456789", b"ok"], False)


def test_a_message_bigger_than_the_buffer_arrives_whole():
    r, w, reader = _pipe()
    big = bytes(range(256)) * 3000  # 768 KB: several pipe-fulls and a bigger buffer
    got: list[bytes] = []
    import threading

    writer = threading.Thread(target=w.send_bytes, args=(big,))
    writer.start()
    while not got:
        Poller().wait([r], None)
        got += reader.read()[0]
    writer.join()
    assert got == [big]


def test_the_eight_byte_length_form_is_understood():
    r, w, reader = _pipe()
    os.write(w.fileno(), struct.pack("!i", -1) + struct.pack("!Q", 3) + b"abc")
    assert reader.read() == ([b"abc"], False)


def test_end_of_file_is_reported_after_the_last_messages():
    r, w, reader = _pipe()
    w.send_bytes(b"last words")
    w.close()
    messages, eof = reader.read()
    assert messages == [b"last words"]
    if not eof:  # a short read ends a pass without asking again; the next one sees the end
        assert reader.read() == ([], True)


def test_the_poller_reports_ready_handles_and_follows_a_changed_set():
    r1, w1 = mp.Pipe(duplex=False)
    r2, w2 = mp.Pipe(duplex=False)
    poller = Poller()
    assert poller.wait([r1, r2], 0) == []
    w2.send_bytes(b"x")
    assert poller.wait([r1, r2], 0) == [r2]
    r3, w3 = mp.Pipe(duplex=False)
    w3.close()  # EOF counts as ready
    assert set(poller.wait([r1, r3], 0)) == {r3}
