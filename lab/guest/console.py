#!/usr/bin/python3
"""console.py SOCKET START TIMEOUT [--login USER:PASSWORD] NAME=REGEX...

Reads a qemu serial console (a unix socket, or tcp:HOST:PORT for the TCP
serial port Nova's libvirt driver gives a domain) and prints, for each NAME, the
seconds from START (a time.time() taken just before qemu started) to the
first console output matching REGEX, in whatever order they come: "mark NAME
SECONDS". With --login, once every mark is seen, logs in on the getty as an
operator would (user at "login:", password at "Password:") and runs `id -u`, printing "login ok"
when the shell answers. Exits 1 on TIMEOUT (seconds from START) with the
marks not seen."""
import re
import socket
import sys
import time


def main():
    sock_path, start, timeout = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    args = sys.argv[4:]
    login = None
    if args and args[0] == "--login":
        login = args[1].split(":", 1)
        args = args[2:]
    marks = [(n, re.compile(r)) for n, r in (a.split("=", 1) for a in args)]
    deadline = start + timeout
    s = None
    while s is None:
        try:
            if sock_path.startswith("tcp:"):
                host, port = sock_path[4:].rsplit(":", 1)
                s = socket.create_connection((host, int(port)), timeout=1)
            else:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock_path)
        except OSError:
            s = None
            if time.time() > deadline:
                print("no console socket", sock_path)
                return 1
            time.sleep(0.05)
    buf = ""  # what the login steps have not consumed yet
    seen = ""  # everything, for the marks
    step = "marks"
    while True:
        left = deadline - time.time()
        if left <= 0:
            print("timeout waiting for", [n for n, _ in marks] if marks else step)
            return 1
        s.settimeout(min(left, 1.0))
        try:
            data = s.recv(4096)
        except socket.timeout:
            data = b""
            if step == "marks" and not marks and login:
                s.sendall(b"\n")  # a getty that printed before we connected
        else:
            if not data:
                print("console closed")
                return 1
        text = data.decode("utf-8", "replace").replace("\r", "")
        buf += text
        seen += text
        for mark in [m for m in marks if m[1].search(seen)]:
            print("mark %s %.1f" % (mark[0], time.time() - start), flush=True)
            marks.remove(mark)
        if marks:
            continue
        if not login:
            return 0
        if step == "marks" and re.search(r"login: ?$", buf):
            s.sendall(login[0].encode() + b"\n")
            step, buf = "user", ""
        elif step == "user" and "Password:" in buf:
            # login prints the prompt before it turns echo off: typed at
            # once, the password would be echoed into the console log.
            time.sleep(0.5)
            s.sendall(login[1].encode() + b"\n")
            step, buf = "password", ""
        # ash asks the terminal for the cursor position (ESC [6n) after its prompt.
        elif step == "password" and re.search(r"[#$] (\x1b\[6n)?$", buf):
            s.sendall(b"echo hbg-login-$(id -u)-ok\n")
            step, buf = "shell", ""
        elif step == "shell" and "hbg-login-0-ok" in buf:
            print("login ok %.1f" % (time.time() - start))
            s.sendall(b"exit\n")
            return 0
        elif step != "marks" and "Login incorrect" in buf:
            print("login refused")
            return 1


if __name__ == "__main__":
    sys.exit(main())
