"""Real mail servers for the email tests: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback ports.

Dovecot runs from Debian's package (`apt-get install -y dovecot-imapd`) with a config generated
under a temporary directory: its own base_dir, a passwd-file of test users, Maildirs, a
self-signed certificate for IMAPS/STARTTLS. Nothing of the system's /etc/dovecot is used.
"""
import datetime
import ipaddress
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.loopback import free_port, wait_for_port  # noqa: F401  (imported from here by other tests)




def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1; it is also the CA the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


DOVECOT_CONF = """\
# Generated for the Centralita tests; nothing from /etc/dovecot is read.
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = centralita-test-{imap_port}
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    """A private Dovecot with a pool of test users (each its own Maildir): start(), new_user(), stop().

    The users are written before start: Dovecot re-reads a passwd-file only when its mtime
    changes, so users appended within the same second as a lookup would go unseen.
    """

    USERS = 400
    PASSWORD = "clave-ñ-secreta"  # not ASCII on purpose: real passwords are not either

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="centralita-dovecot-"))
        # Dovecot's master runs as root (as packaged: it needs its dovecot/dovenull users);
        # mail processes run as 'nobody' (Dovecot refuses uid 0 for mail access).
        user = pwd.getpwnam("nobody")
        self.uid, self.gid = user.pw_uid, user.pw_gid
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.cert, self.key = make_certificate(self.root)
        self.config = self.root / "dovecot.conf"
        self.users = self.root / "users"
        self.process = None
        self._lock = threading.Lock()
        self._next_user = 0

    def start(self) -> "Dovecot":
        os.chmod(self.root, 0o755)
        for sub in ("mail", "home"):
            (self.root / sub).mkdir()
            os.chown(self.root / sub, self.uid, self.gid)
        self.users.write_text("".join(f"desk{n}:{{PLAIN}}{self.PASSWORD}::::::\n" for n in range(self.USERS)))
        self.config.write_text(
            DOVECOT_CONF.format(root=self.root, cert=self.cert, key=self.key, uid=self.uid, gid=self.gid,
                                imap_port=self.imap_port, imaps_port=self.imaps_port)
        )
        check = subprocess.run(["dovecot", "-n", "-c", str(self.config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"dovecot -n rejected the generated config: {check.stderr}")
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.config)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.imap_port)
            wait_for_port(self.imaps_port)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"dovecot did not start: {self.log()}") from None
        return self

    def new_user(self) -> tuple[str, str]:
        with self._lock:
            n, self._next_user = self._next_user, self._next_user + 1
        if n >= self.USERS:
            raise RuntimeError("out of Dovecot test users: raise Dovecot.USERS")
        return f"desk{n}", self.PASSWORD

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


# --- SMTP --------------------------------------------------------------------------------------


class SmtpCapture:
    """An SMTP server (aiosmtpd) that keeps what it receives and answers as told.

    `refuse_rcpt` / `refuse_data`: an SMTP reply line ("550 5.1.1 ...") given instead of 250.
    """

    def __init__(self, *, tls_context=None, implicit_tls=False, username=None, password=None):
        self.received: list[dict] = []
        self.refuse_rcpt: str | None = None
        self.refuse_data: str | None = None
        self.logins: list[str] = []
        self.port = free_port()
        self.username, self.password = username, password
        kwargs = {}
        if username:
            # PLAIN only: after a refused PLAIN, smtplib tries LOGIN, whose exchange with aiosmtpd
            # stalls until the client's timeout. aiosmtpd only counts STARTTLS as TLS for AUTH.
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=not implicit_tls,
                          auth_exclude_mechanism=["LOGIN"])
        if tls_context is not None and implicit_tls:
            kwargs["ssl_context"] = tls_context
        elif tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="localhost",
                                     ready_timeout=10, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        ok = login == self.username and auth_data.password.decode() == self.password
        self.logins.append(f"{login}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        self.received.append(
            {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "data": envelope.original_content,
             "tls": session.ssl is not None}
        )
        return "250 2.0.0 queued"

    def start(self) -> "SmtpCapture":
        self.controller.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        self.controller.stop()


