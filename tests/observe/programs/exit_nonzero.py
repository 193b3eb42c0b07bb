import sys

from _work import spin

if __name__ == "__main__":
    spin(3_000_000)
    print("working, then failing")
    sys.exit(3)
