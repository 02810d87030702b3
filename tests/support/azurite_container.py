"""Create a blob container in a running Azurite (object_store cannot create containers).

Usage: azurite_container.py PORT CONTAINER
The account and key are Azurite's fixed, published development credentials, not a secret.
"""
import sys

from azure.storage.blob import BlobServiceClient

ACCOUNT = "devstoreaccount1"
AZURITE_PUBLIC_DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def main():
    port, container = sys.argv[1], sys.argv[2]
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={AZURITE_PUBLIC_DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    BlobServiceClient.from_connection_string(conn).create_container(container)


if __name__ == "__main__":
    main()
