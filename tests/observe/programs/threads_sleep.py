import time
from concurrent.futures import ThreadPoolExecutor

if __name__ == "__main__":
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(time.sleep, [0.1] * 40))
