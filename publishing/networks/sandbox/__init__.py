from publishing.networks.sandbox.adapter import SandboxAdapter, SandboxPosts

__all__ = ["SandboxAdapter", "SandboxPosts"]
