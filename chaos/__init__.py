"""The chaos run: proof that Kairos loses no due post and publishes none twice.

`python -m chaos --posts N` (or `make chaos N=…`) starts a private PostgreSQL,
Redis and fake X, schedules N posts over 100 X accounts to fall due within two
minutes, and runs two beats and several workers through it while killing
workers every 10 s, flushing Redis once and crashing PostgreSQL once. The fake
X drops the answer to 2% of its post creations. Then it counts, on both sides,
what was lost and what was doubled. Exit status 0 means neither happened.
"""
