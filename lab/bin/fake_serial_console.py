#!/usr/bin/python3
"""A stand-in for a hypervisor's serial console TCP port.

nova's FakeDriver answers get_serial_console() with the fixed endpoint
fakerdpconsole.com:6969 (the lab maps that name to 127.0.0.1 in its hosts'
/etc/hosts). nova-serialproxy connects here after validating a console token.
We log each connection and its first bytes, answer like a console would, and
echo what the client types. Listens on the lab host's loopback only.
"""
import socket
import sys
import threading
import time


def log(msg):
    print(time.strftime("%Y-%m-%d %H:%M:%S"), msg, flush=True)


def serve(conn, addr):
    with conn:
        conn.settimeout(300)
        try:
            first = conn.recv(4096)
            log("connection from %s:%d, first bytes %r" % (addr[0], addr[1], first[:200]))
            if first.startswith(b"CONNECT "):
                conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
            conn.sendall(b"\r\nhoofbeat lab fake serial console (FakeDriver)\r\nlogin: ")
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                conn.sendall(data)
        except OSError as exc:
            log("connection from %s:%d ended: %s" % (addr[0], addr[1], exc))


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 6969
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(16)
    log("listening on %s:%d" % (host, port))
    while True:
        conn, addr = srv.accept()
        threading.Thread(target=serve, args=(conn, addr), daemon=True).start()


if __name__ == "__main__":
    main()
