from publishing.networks.x.adapter import XAdapter

__all__ = ["XAdapter"]
