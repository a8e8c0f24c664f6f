"""A faithful fake of a Mastodon instance over real HTTP, for tests, chaos runs and benchmarks.

Run it with `python -m fakemastodon --port 0`; drive it with
`fakemastodon.control.FakeMastodonControl`. Its generic parts (request and response
shapes, routing, fault rules, the control calls for faults and the clock) are fakex's.
"""
