"""A faithful fake of Meta's Graph API over real HTTP (Facebook Pages and Instagram
professional accounts, which share it), for tests, chaos runs and benchmarks.

Run it with `python -m fakemeta --port 0`; drive it with
`fakemeta.control.FakeMetaControl`. Its generic parts (request and response shapes,
fault rules, the control calls for faults and the clock, the serving loop) are fakex's.
"""
