"""The ``aws_kms`` key provider: AWS KMS, with boto3 (the optional extra
``datasette-secrets[aws]``).

    key_provider:
      aws_kms:
        key_id: alias/datasette-secrets   # a key id, key ARN, alias name or alias ARN
        region: eu-west-1                 # optional: else the usual AWS configuration

Credentials come from the usual AWS chain (environment, shared files, an
instance or task role); none is ever configured here. Each call is KMS's
``Encrypt``, ``Decrypt`` or ``ReEncrypt`` with the context as the
``EncryptionContext``, which KMS binds to the ciphertext: a wrapped key moved
to another key id does not decrypt. boto3 is synchronous, so every call runs
in a thread (``asyncio.to_thread``).
"""

import asyncio

from .providers import KeyProviderError, check_settings

SETTINGS = ("key_id", "region")
TIMEOUT = 5  # seconds to connect and to read, for one call


class AwsKms:
    """Wraps data keys with an AWS KMS key (see the module docstring)."""

    name = "aws_kms"

    def __init__(self, options):
        options = check_settings(self.name, options, SETTINGS, ("key_id",))
        for setting in SETTINGS:
            if setting in options and options[setting] is not None and not isinstance(options[setting], str):
                raise ValueError(f"'{setting}' must be text")
        self.key_id = options["key_id"].strip()
        self.region = (options.get("region") or "").strip() or None
        self._client = None

    def __repr__(self):
        return f"<AwsKms {self.key_id} {self.region or ''}>"

    def describe(self):
        return {"provider": self.name, "key": self.key_id, "where": f"region {self.region}" if self.region else None}

    def version(self, wrapped):
        return None  # KMS does not say which of a key's backing versions encrypted

    async def wrap(self, plaintext, context):
        answer = await self._call("Encrypt", KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=context)
        return answer["CiphertextBlob"]

    async def unwrap(self, wrapped, context):
        answer = await self._call(
            "Decrypt", KeyId=self.key_id, CiphertextBlob=bytes(wrapped), EncryptionContext=context
        )
        return answer["Plaintext"]

    async def rewrap(self, wrapped, context):
        answer = await self._call(
            "ReEncrypt",
            CiphertextBlob=bytes(wrapped),
            SourceEncryptionContext=context,
            SourceKeyId=self.key_id,
            DestinationKeyId=self.key_id,
            DestinationEncryptionContext=context,
        )
        return answer["CiphertextBlob"]

    def _where(self):
        return f"aws_kms key {self.key_id!r}" + (f" in {self.region}" if self.region else "")

    def client(self):
        """The boto3 KMS client, made on first use (importing boto3 only then)."""
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise KeyProviderError(
                    f"{self._where()}: boto3 is not installed: pip install 'datasette-secrets[aws]'",
                    denied=True,
                ) from None
            config = Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"max_attempts": 2})
            self._client = boto3.client("kms", region_name=self.region, config=config)
        return self._client

    async def _call(self, operation, **arguments):
        try:
            from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
        except ImportError:
            self.client()  # raises the message that says what to install

        def call():  # in a thread: making the client reads boto3's service models
            method = {"Encrypt": "encrypt", "Decrypt": "decrypt", "ReEncrypt": "re_encrypt"}[operation]
            return getattr(self.client(), method)(**arguments)

        try:
            return await asyncio.to_thread(call)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "an error")
            raise KeyProviderError(f"{self._where()}: {operation} refused ({code})", denied=True) from None
        except (NoCredentialsError, NoRegionError) as e:
            raise KeyProviderError(f"{self._where()}: {e}", denied=True) from None
        except BotoCoreError as e:
            raise KeyProviderError(f"{self._where()}: unreachable ({type(e).__name__})") from None
