"""Extract the PDF attachment of an .eml with Python's own MIME parser (independent of lettre).

Usage: eml_attachment.py EML OUT_PDF  ->  prints JSON {filename, content_type, subject, to}.
"""
import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for part in msg.iter_attachments():
        if part.get_content_type() == "application/pdf":
            with open(sys.argv[2], "wb") as out:
                out.write(part.get_payload(decode=True))
            print(json.dumps({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "subject": str(msg["subject"]),
                "to": str(msg["to"]),
            }))
            return
    sys.exit("no application/pdf attachment")


if __name__ == "__main__":
    main()
