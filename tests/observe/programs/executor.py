from concurrent.futures import ProcessPoolExecutor

from _work import spin

if __name__ == "__main__":
    with ProcessPoolExecutor(2) as ex:
        list(ex.map(spin, [40] * 40))
