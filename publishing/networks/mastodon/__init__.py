from publishing.networks.mastodon.adapter import MastodonAdapter

__all__ = ["MastodonAdapter"]
