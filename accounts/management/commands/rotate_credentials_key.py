"""Re-encrypt every account's credentials, every webhook endpoint's signing secret and
every network app's client secret (Mastodon instances) with the first key of
KAIROS_CREDENTIALS_KEYS.

Rotating a key without downtime:

1. Make a key:
   python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
2. Put it first in KAIROS_CREDENTIALS_KEYS, keeping the old ones after it; deploy
   (web, workers, beat). Everything still reads; new writes use the new key.
3. Run this command. Workers may keep publishing while it runs.
4. Remove the old keys; deploy again.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.crypto import CredentialsUnreadable
from accounts.services import social_accounts_credentials_rotate, stored_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt all stored network credentials with the first credentials key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Accounts locked and rewritten at a time."
        )

    def handle(self, *args, batch_size: int, **options):
        total = 0
        try:
            for done, total in social_accounts_credentials_rotate(batch_size=batch_size):
                self.stdout.write(f"{done}/{total}")
            secrets = stored_secrets_rotate()
        except CredentialsUnreadable as exc:
            raise CommandError(
                f"{exc} Earlier batches are re-encrypted; run the command again once the "
                "key is back."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the credentials of {total} account(s), the secrets of "
                f"{secrets['Webhook endpoint']} webhook endpoint(s) and of {secrets['App']} "
                f"network app(s)."
            )
        )
