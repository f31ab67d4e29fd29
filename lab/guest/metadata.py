#!/usr/bin/python3
"""A metadata service for the lab's standalone guest boots: serves the
folder ROOT (an EC2- and OpenStack-style tree written by lab/guest-lib.sh) on
ADDR:PORT as Nova's metadata API answers: a file is its content, a folder is
the listing of its entries (sub-folders with a trailing /), anything else 404.
Each request is logged to stdout, to prove the guest asked."""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        rel = os.path.normpath(self.path.split("?", 1)[0]).lstrip("/")
        path = os.path.join(ROOT, rel)
        # normpath keeps "..": refuse anything outside the tree.
        if rel.startswith("..") or not os.path.realpath(path).startswith(ROOT):
            return self.answer(404, b"")
        if os.path.isdir(path):
            names = sorted(os.listdir(path))
            body = "\n".join(n + "/" if os.path.isdir(os.path.join(path, n)) else n for n in names)
            return self.answer(200, body.encode())
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return self.answer(200, f.read())
        self.answer(404, b"")

    def answer(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
        sys.stdout.flush()


if __name__ == "__main__":
    ROOT = os.path.realpath(sys.argv[1])
    http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
