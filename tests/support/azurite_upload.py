"""Upload a local folder into a container of a running Azurite, keeping relative paths.

Usage: azurite_upload.py PORT CONTAINER LOCAL_DIR PREFIX
The account and key are Azurite's fixed, published development credentials, not a secret.
"""
import os
import sys

from azure.storage.blob import BlobServiceClient

from azurite_container import ACCOUNT, AZURITE_PUBLIC_DEV_KEY


def main():
    port, container, local, prefix = sys.argv[1:5]
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={AZURITE_PUBLIC_DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    client = BlobServiceClient.from_connection_string(conn).get_container_client(container)
    for root, _, files in os.walk(local):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, local).replace(os.sep, "/")
            with open(path, "rb") as f:
                client.upload_blob(f"{prefix}/{rel}", f, overwrite=True)


if __name__ == "__main__":
    main()
