"""What tests hand network adapters: an account as adapters see it, and a store.

`MemoryStore` keeps what an adapter reports in memory, so an adapter's tests need
no database; the database's store (publishing/stores.py) has tests of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace

from accounts.models import SocialAccount
from publishing.models import RateLimitWindow
from publishing.networks.base import Account, Credentials, CredentialsRefused, WindowReading
from publishing.stores import DatabaseStore, account_snapshot


def adapter_args(account: SocialAccount) -> tuple[Account, DatabaseStore]:
    """A stored account as an adapter takes it, with the database as its store."""
    return account_snapshot(account), DatabaseStore(network=account.network)


class MemoryStore:
    """An AccountStore in memory: it records readings, renewals and billing problems."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = {account.id: account for account in accounts}
        self.readings: list[WindowReading] = []
        self.billing: dict[int, str] = {}
        self.renewals = 0
        self._lock = threading.Lock()

    def rate_limits_record(self, readings: Iterable[WindowReading]) -> None:
        readings = list(readings)
        # What the database store would refuse on PostgreSQL (SQLite keeps any length).
        for reading in readings:
            for name in ("key", "endpoint", "window"):
                longest = RateLimitWindow._meta.get_field(name).max_length
                assert len(getattr(reading, name)) <= longest, (name, getattr(reading, name))
        self.readings.extend(readings)

    def credentials_renew(
        self, *, account: Account, renew: Callable[[Account], Credentials | None]
    ) -> Account:
        with self._lock:
            current = self.accounts.get(account.id, account)
            try:
                credentials = renew(current)
            except CredentialsRefused:
                self.accounts[account.id] = replace(current, needs_reauth=True)
                raise
            if credentials is not None:
                self.renewals += 1
                current = replace(
                    current,
                    credentials=dict(credentials.values),
                    token_expires_at=credentials.expires_at,
                )
                self.accounts[account.id] = current
            return current

    def billing_problem(self, *, account: Account, message: str) -> None:
        self.billing[account.id] = message

    @property
    def sandbox_posts(self):
        raise AssertionError("only the sandbox network keeps its posts in the store")

    def window(self, key: str, window: str) -> WindowReading:
        """The latest reading of one window."""
        return [r for r in self.readings if (r.key, r.window) == (key, window)][-1]
