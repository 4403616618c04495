"""What the benches share: their own throwaway database, and median / p90 of a timed call."""
import statistics
import time
from urllib.parse import urlsplit, urlunsplit


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def timed(fn, runs: int = 10, share: float = 0.9) -> tuple[float, float]:
    """Milliseconds: the median and the `share` percentile of `runs` calls of fn."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * share) - 1]
