import multiprocessing

from _work import tiny

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for _ in pool.imap(tiny, range(40_000), chunksize=1):
            pass
