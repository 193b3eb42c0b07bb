from concurrent.futures import ThreadPoolExecutor

from _work import digest

if __name__ == "__main__":
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(digest, [40] * 48))
