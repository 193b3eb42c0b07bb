import sys

from _work import spin

if __name__ == "__main__":
    spin(600)  # 0.6 s of CPU: more than its interpreter's start-up
    print("working, then failing")
    sys.exit(3)
