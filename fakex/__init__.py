"""A faithful fake of the X API v2 over real HTTP, for tests, chaos runs and benchmarks.

Run it with `python -m fakex --port 0`; drive it with `fakex.control.FakeXControl`.
"""
