"""The response cache as the official OpenAI SDK meets it: hits parse like fresh answers, streamed or not."""

import pytest
from openai import OpenAI

from conftest import DEMO_KEY, mock_backed_gateway


@pytest.fixture(scope="module")
def cached():
    with mock_backed_gateway("cache: {enabled: true, ttl_s: 60}\n") as base_url:
        yield OpenAI(base_url=base_url, api_key=DEMO_KEY, max_retries=0, timeout=30)


def ask(client, text, **kwargs):
    return client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], temperature=0, **kwargs)


def test_a_repeated_deterministic_request_is_a_hit_that_parses_like_the_original(cached):
    first = ask(cached, "cache me please")
    second = ask(cached, "cache me please")
    assert first.headers["x-tollgate-cache"] == "miss"
    assert second.headers["x-tollgate-cache"] == "hit"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert ask(cached, "cache me please", user="someone-else").headers["x-tollgate-cache"] == "hit"


def test_sampled_requests_bypass_the_cache(cached):
    raw = cached.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "sampled"}])
    assert raw.headers["x-tollgate-cache"] == "bypass"


def test_a_streamed_answer_is_replayed_as_a_stream(cached):
    def streamed(**kwargs):
        raw = ask(cached, "stream and cache me", stream=True, **kwargs)
        chunks = list(raw.parse())
        return raw.headers["x-tollgate-cache"], chunks

    state, chunks = streamed()
    assert state == "miss"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    state, replay = streamed(stream_options={"include_usage": True})
    assert state == "hit"
    assert "".join(c.choices[0].delta.content or "" for c in replay if c.choices) == text
    assert replay[-1].usage is not None and replay[-1].usage.total_tokens > 0
    assert [c.choices[0].finish_reason for c in replay if c.choices][-1] == "stop"
    plain = ask(cached, "stream and cache me")
    assert plain.headers["x-tollgate-cache"] == "hit"
    assert plain.parse().choices[0].message.content == text


def test_embeddings_are_cached(cached):
    first = cached.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["cache", "me"])
    second = cached.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["cache", "me"])
    assert (first.headers["x-tollgate-cache"], second.headers["x-tollgate-cache"]) == ("miss", "hit")
    assert second.parse().data[1].embedding == first.parse().data[1].embedding
