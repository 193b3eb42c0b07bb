from concurrent.futures import ThreadPoolExecutor

from _work import spin

if __name__ == "__main__":
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(spin, [40] * 40))
