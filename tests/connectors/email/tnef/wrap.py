"""Wraps the upstream TNEF samples in this folder into mails, as Outlook/Exchange send them, and
writes them to ../fixtures/tnef_*.eml (the corpus that test_ingest_corpus.py replays).

Run from the repository root after changing a wrapper: `.venv/bin/python tests/connectors/email/tnef/wrap.py`.
The winmail.dat bytes are the upstream files unchanged (test_tnef.py checks it); only the
headers and the text/plain parts around them are ours.
"""
import base64
from pathlib import Path

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
CUT_AFTER = 20  # tnef_cut_off.eml: two-files.tnef cut off after its first 20 bytes

HEADERS = """Received: by mail.tienda.example; {date}
From: {sender}
To: soporte@tienda.example
Subject: {subject}
Date: {date}
Message-ID: <{message_id}>
MIME-Version: 1.0
X-Mailer: Microsoft Outlook 16.0
"""


def b64(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def tnef_part(data: bytes, content_type: str = "application/ms-tnef", name: str = "winmail.dat") -> str:
    return (f'Content-Type: {content_type}; name="{name}"\n'
            f"Content-Transfer-Encoding: base64\n"
            f'Content-Disposition: attachment; filename="{name}"\n\n{b64(data)}\n')


def mixed(headers: str, *parts: str) -> str:
    boundary = "_000_tnef_boundary_"
    body = "".join(f"--{boundary}\n{part}" for part in parts)
    return f'{headers}Content-Type: multipart/mixed; boundary="{boundary}"\n\n{body}--{boundary}--\n'


def plain(text: str) -> str:
    return f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n"


def mails() -> dict[str, str]:
    sample = {p.stem: p.read_bytes() for p in HERE.glob("*.tnef")}
    return {
        # Exchange's usual shape: a text/plain body beside the winmail.dat holding the attachments.
        "tnef_two_files.eml": mixed(
            HEADERS.format(date="Mon, 23 Nov 2026 09:12:00 +0100", sender='"Pilar Sanz" <pilar.sanz@empresa.example>',
                           subject="Ficheros del pedido 5120", message_id="tnef-two-files@empresa.example"),
            plain("Adjunto los dos ficheros que me pedisteis.\nSaludos,\nPilar"),
            tnef_part(sample["two-files"])),
        # Only the winmail.dat: the body is the RTF inside it (HTML wrapped in RTF, \fromhtml1).
        "tnef_rtf_only.eml": mixed(
            HEADERS.format(date="Mon, 23 Nov 2026 09:30:00 +0100", sender='"Jürgen Weiß" <juergen@tbz.example>',
                           subject="Umlaut-Anhang", message_id="tnef-rtf-only@tbz.example"),
            tnef_part(sample["umlaut"])),
        # The whole mail is the TNEF (Content-Type application/ms-tnef at the top): plain and HTML inside.
        "tnef_whole_mail.eml": HEADERS.format(
            date="Mon, 23 Nov 2026 10:05:00 +0100", sender="<it@oficina.example>",
            subject="hello world", message_id="tnef-whole-mail@oficina.example")
        + 'Content-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\n'
        + b64(sample["unicode-mapi-attr"]) + "\n",
        # Sent as application/octet-stream under another name: found by its signature; RTF text body.
        "tnef_octet_stream.eml": mixed(
            HEADERS.format(date="Mon, 23 Nov 2026 11:00:00 +0100", sender='"Heather" <heather@proveedor.example>',
                           subject="RE: QARun license", message_id="tnef-octet-stream@proveedor.example"),
            tnef_part(sample["long-filename"], "application/octet-stream", "mensaje.dat")),
        # A winmail.dat cut off in transit: it cannot be read and stays an ordinary attachment.
        "tnef_cut_off.eml": mixed(
            HEADERS.format(date="Mon, 23 Nov 2026 12:00:00 +0100", sender='"Pilar Sanz" <pilar.sanz@empresa.example>',
                           subject="Presupuesto", message_id="tnef-cut-off@empresa.example"),
            plain("Os envío el presupuesto."),
            tnef_part(sample["two-files"][:CUT_AFTER])),
    }


if __name__ == "__main__":
    for name, text in mails().items():
        (FIXTURES / name).write_bytes(text.replace("\n", "\r\n").encode())
        print(FIXTURES / name)
