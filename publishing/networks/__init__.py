"""The registry: which adapter speaks to which network. A new network is one line here."""

from publishing.networks.base import NetworkAdapter
from publishing.networks.bluesky import BlueskyAdapter
from publishing.networks.facebook import FacebookAdapter
from publishing.networks.instagram import InstagramAdapter
from publishing.networks.linkedin import LinkedInAdapter
from publishing.networks.mastodon import MastodonAdapter
from publishing.networks.sandbox import SandboxAdapter
from publishing.networks.x import XAdapter

_ADAPTERS: dict[str, NetworkAdapter] = {
    adapter.network: adapter
    for adapter in (
        SandboxAdapter(),
        XAdapter(),
        MastodonAdapter(),
        BlueskyAdapter(),
        FacebookAdapter(),
        InstagramAdapter(),
        LinkedInAdapter(),
    )
}


class NetworkNotSupported(LookupError):
    pass


def adapter_for(network: str) -> NetworkAdapter:
    try:
        return _ADAPTERS[network]
    except KeyError:
        raise NetworkNotSupported(f"Kairos cannot publish to “{network}” yet.") from None


def adapters() -> list[NetworkAdapter]:
    """Every network Kairos speaks to."""
    return list(_ADAPTERS.values())
