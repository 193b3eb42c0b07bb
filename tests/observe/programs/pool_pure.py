import multiprocessing

from _work import spin

if __name__ == "__main__":
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(spin, [40] * 40, chunksize=1)
