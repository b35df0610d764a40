"""rq workers as the runtime makes them: their teardown never waits on their listener."""

from __future__ import annotations

import time

import pytest
import redis

from intake.delivery import scheduler


@pytest.mark.parametrize("in_process", [True, False])
def test_a_worker_ends_at_once_even_when_its_listener_woke_first(runtime, monkeypatch, in_process):
    # rq's teardown sends UNSUBSCRIBE, then stops its listener thread. Here the listener reads
    # the reply before the stop, as it sometimes did under load (the suite's 60-s stalls).
    sent = redis.client.PubSub.unsubscribe

    def unsubscribe_then_dawdle(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer = sent(self, *args, **kwargs)
        time.sleep(0.3)
        return answer

    monkeypatch.setattr(redis.client.PubSub, "unsubscribe", unsubscribe_then_dawdle)
    started = time.monotonic()

    runtime.worker(in_process=in_process).work(burst=True)

    assert time.monotonic() - started < 5


def test_draining_an_idle_pipeline_takes_no_time(runtime):
    started = time.monotonic()
    for _ in range(5):
        scheduler.drain(runtime)
    assert time.monotonic() - started < 5
