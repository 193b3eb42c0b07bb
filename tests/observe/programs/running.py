"""Runs until its stdin closes: a pool of 2 on pure Python, for attaching to by pid."""
import multiprocessing
import sys
import threading

from _work import spin

if __name__ == "__main__":
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print("ready", flush=True)
        while not stop.is_set():
            pool.map(spin, [100_000] * 8, chunksize=1)
