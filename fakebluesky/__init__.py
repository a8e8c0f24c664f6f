"""A faithful fake of Bluesky (a PDS and the AppView reads Kairos uses) over real HTTP.

Run it with `python -m fakebluesky --port 0`; drive it with
`fakebluesky.control.FakeBlueskyControl`. Its generic parts (requests and responses,
routes, faults, the socket server) are fakex's.
"""
