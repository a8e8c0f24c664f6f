from publishing.networks.facebook.adapter import FacebookAdapter

__all__ = ["FacebookAdapter"]
