from publishing.networks.instagram.adapter import InstagramAdapter

__all__ = ["InstagramAdapter"]
