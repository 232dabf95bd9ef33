"""The official OpenAI Python SDK, pointed at Tollgate, with nothing else changed."""
import openai
import pytest
from openai import OpenAI

from conftest import DEMO_KEY


@pytest.fixture
def client(gateway):
    return OpenAI(base_url=gateway, api_key=DEMO_KEY, max_retries=0, timeout=30)


def test_chat_non_streaming(client):
    r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello sdk"}])
    assert r.choices[0].message.content
    assert "hello sdk" in r.choices[0].message.content
    assert r.usage.total_tokens > 0


def test_chat_streaming(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "stream please"}], stream=True)
    parts = [c.choices[0].delta.content or "" for c in stream if c.choices]
    text = "".join(parts)
    assert "stream please" in text
    assert len(parts) > 3


def test_chat_streaming_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "count me"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_models(client):
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids and "text-embedding-3-small" in ids


def test_embeddings(client):
    r = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(r.data) == 2 and len(r.data[0].embedding) > 0


def test_errors_are_typed(client, gateway):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    bad = OpenAI(base_url=gateway, api_key="sk-tg-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_retrieve_model(client):
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
