"""A faithful fake of LinkedIn's API over real HTTP (OAuth, members, the organizations
they administer, posts with images, their social actions), for tests, chaos runs and
benchmarks.

Run it with `python -m fakelinkedin --port 0`; drive it with
`fakelinkedin.control.FakeLinkedInControl`. Its generic parts (request and response
shapes, fault rules, the control calls for faults and the clock, the serving loop)
are fakex's.
"""
