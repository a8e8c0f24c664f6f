"""Benchmarks of Kairos where a scheduler is judged, beside the baseline a Django developer
would write first (one django-celery-beat one-off task per post).

Run with `make bench` (quick), `make bench SMOKE=1` (a smoke run for CI) or
`make bench-full`; bench/README.md says what each figure measures.
"""
