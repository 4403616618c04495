"""A loopback HTTP server in a thread of its own: what the provider stand-ins are built on. The
handler reaches its stand-in as `self.server.owner`. Port 0: the kernel picks one (tests)."""
import threading
from http.server import ThreadingHTTPServer


class LoopbackServer:
    def __init__(self, handler, *, host: str = "127.0.0.1", port: int = 0):
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
