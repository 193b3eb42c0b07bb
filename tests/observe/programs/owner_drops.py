"""Started as root: starts a child that stays root's, becomes the user given itself, works, and ends.

For observing as that user under a /proc mounted with hidepid: the parent is the user's own
(readable), its child another user's (root's: hidden).  Prints the child's pid, then waits for a
line on stdin before it works.
"""
import ctypes
import os
import subprocess
import sys

from _work import spin

PR_SET_DUMPABLE = 4

if __name__ == "__main__":
    uid = int(sys.argv[1])
    child = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)  # ends with its stdin
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    # A process that changed its user is not dumpable, and its /proc then belongs to root: undo that,
    # as a process started by the user would be.
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    print(child.pid, flush=True)
    sys.stdin.readline()
    spin(600)
    child.stdin.close()
    child.wait()
