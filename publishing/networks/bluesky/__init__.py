from publishing.networks.bluesky.adapter import BlueskyAdapter

__all__ = ["BlueskyAdapter"]
