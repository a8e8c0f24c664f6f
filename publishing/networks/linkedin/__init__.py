from publishing.networks.linkedin.adapter import LinkedInAdapter

__all__ = ["LinkedInAdapter"]
