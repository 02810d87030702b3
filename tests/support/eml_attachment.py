"""Extract the PDF attachment of an .eml with Python's own MIME parser (independent of lettre).

Usage: eml_attachment.py EML OUT_PDF  ->  prints JSON {filename, content_type, subject, to,
parts, html_cids, inline_cids, plain}: the MIME types in the message's tree, the `cid:` sources the
HTML body uses and the Content-IDs of its inline parts, and the start of the plain-text body.
"""
import email
import email.policy
import json
import re
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    parts = [p.get_content_type() for p in msg.walk()]
    html = msg.get_body(preferencelist=("html",))
    plain = msg.get_body(preferencelist=("plain",))
    html_text = html.get_content() if html is not None else ""
    html_cids = sorted(set(re.findall(r'src="cid:([^"]+)"', html_text)))
    inline_cids = sorted(
        p["Content-ID"].strip("<>") for p in msg.walk() if p["Content-ID"] and p.get_content_type() == "image/png"
    )
    for part in msg.iter_attachments():
        if part.get_content_type() == "application/pdf":
            with open(sys.argv[2], "wb") as out:
                out.write(part.get_payload(decode=True))
            print(json.dumps({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "subject": str(msg["subject"]),
                "to": str(msg["to"]),
                "parts": parts,
                "html_cids": html_cids,
                "inline_cids": inline_cids,
                "plain": plain.get_content()[:2000] if plain is not None else None,
            }))
            return
    sys.exit("no application/pdf attachment")


if __name__ == "__main__":
    main()
