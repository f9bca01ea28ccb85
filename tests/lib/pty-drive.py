#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run a command on a new pseudo-terminal and talk to it, as a person at a
terminal would: pty-drive.py [--log FILE] STEP... -- COMMAND [ARGS...]

STEP is one of:
  expect:REGEX   wait (up to the timeout) until the output matches REGEX
  send:TEXT      type TEXT; \\r, \\n and \\xNN escapes are understood
  sleep:SECONDS  pause
  timeout:SECS   the timeout of the following expects (default 60)
  winsize:ROWSxCOLS  set the terminal's size (the command gets SIGWINCH)

Exits with the command's exit status; 124 if an expect timed out (the
output so far is printed to stderr)."""

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def main():
    argv = sys.argv[1:]
    log = None
    if argv[:1] == ["--log"]:
        log = open(argv[1], "wb")
        argv = argv[2:]
    sep = argv.index("--")
    steps, cmd = argv[:sep], argv[sep + 1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)

    buf = b""
    timeout = 60.0
    status = None

    def pump(deadline):
        nonlocal buf
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            return None
        buf += data
        if log:
            log.write(data)
            log.flush()
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "expect":
            rx = re.compile(arg.encode())
            deadline = time.monotonic() + timeout
            while not rx.search(buf):
                if time.monotonic() >= deadline or pump(deadline) is None:
                    sys.stderr.write("pty-drive: timed out waiting for %r; output was:\n" % arg)
                    sys.stderr.write(buf[-4000:].decode(errors="replace") + "\n")
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    sys.exit(124)
            # What matched is consumed, so the next expect looks at newer output.
            buf = buf[rx.search(buf).end():]
        elif kind == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "sleep":
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                if pump(end) is None:
                    break
        elif kind == "timeout":
            timeout = float(arg)
        elif kind == "winsize":
            rows, cols = (int(x) for x in arg.split("x"))
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        else:
            sys.exit("pty-drive: unknown step %r" % step)

    # Drain until the command exits.
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            # What it wrote just before it exited is still in the pty: take
            # it too (its last words are often what a test looks for).
            while pump(time.monotonic()):
                pass
            break
        if pump(min(deadline, time.monotonic() + 0.2)) is None:
            _, status = os.waitpid(pid, 0)
            break
        if time.monotonic() >= deadline:
            sys.stderr.write("pty-drive: the command did not exit\n")
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


main()
