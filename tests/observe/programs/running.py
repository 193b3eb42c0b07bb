"""Runs until its stdin closes: a pool of 2 on pure Python, for attaching to by pid."""
import multiprocessing
import os
import threading

from _work import spin

if __name__ == "__main__":
    stop = threading.Event()
    # os.read, not sys.stdin.read: a forked worker closes sys.stdin as it starts, and would wait for
    # ever on the buffer's lock that this thread holds while it reads.
    threading.Thread(target=lambda: (os.read(0, 1), stop.set()), daemon=True).start()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print("ready", flush=True)
        while not stop.is_set():
            pool.map(spin, [10] * 8, chunksize=1)
