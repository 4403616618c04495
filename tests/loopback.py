"""A loopback HTTP server in a thread of its own: what the provider stand-ins (X API, Graph API,
a customer's system) are built on. The handler reaches its stand-in as `self.server.owner`."""
import threading
from http.server import ThreadingHTTPServer


class LoopbackServer:
    def __init__(self, handler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
