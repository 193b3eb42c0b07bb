"""A pool of 2 on pure Python that starts its work when a line comes on its stdin, then ends."""
import multiprocessing
import sys

from _work import spin

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2) as pool:
        print("ready", flush=True)
        sys.stdin.readline()
        pool.map(spin, [40] * 30, chunksize=1)
