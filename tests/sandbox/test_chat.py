"""chat: message, history, behavior context, custom fields and mode limits."""

from __future__ import annotations

import pytest


def chat(sandbox, **body):
    body.setdefault("message", "Hello")
    return sandbox.post("chat", body)


def test_a_message_gets_a_reply_and_a_session_id(sandbox):
    response = chat(sandbox)
    assert response.status_code == 200
    assert response.json["response"] and response.json["session_id"] and response.json["agent_id"]
    again = chat(sandbox, session_id=response.json["session_id"])
    assert again.json["session_id"] == response.json["session_id"]


@pytest.mark.parametrize("message", [None, ""])
def test_message_is_required(sandbox, message):
    assert sandbox.post("chat", {"message": message}).status_code == 400


def test_message_is_limited_to_10000_characters(sandbox):
    assert chat(sandbox, message="é" * 10_000).status_code == 200
    assert chat(sandbox, message="é" * 10_001).status_code == 400


def test_conversation_history_is_limited_to_50_messages(sandbox):
    item = {"role": "user", "content": "hi"}
    assert chat(sandbox, conversation_history=[item] * 50).status_code == 200
    assert chat(sandbox, conversation_history=[item] * 51).status_code == 400


def test_behavior_context_is_limited_to_5000_characters(sandbox):
    assert chat(sandbox, behavior_context="x" * 5_000).status_code == 200
    assert chat(sandbox, behavior_context="x" * 5_001).status_code == 400


def test_custom_fields_payload_is_limited_to_10000_characters(sandbox):
    # {"k":"…"} is 8 characters of JSON around the value.
    assert chat(sandbox, custom_fields={"k": "é" * 9_992}).status_code == 200
    assert chat(sandbox, custom_fields={"k": "é" * 9_993}).status_code == 400


@pytest.mark.parametrize("mode", ["chat", "voice", "video", "livehelp"])
def test_documented_modes_are_accepted(sandbox, mode):
    assert chat(sandbox, mode=mode).json["mode"] == mode


def test_an_unknown_mode_is_rejected(sandbox):
    assert chat(sandbox, mode="sms").status_code == 400


def test_images_must_be_strings(sandbox):
    assert chat(sandbox, images=["https://example.com/a.png"]).status_code == 200
    assert chat(sandbox, images=[{"url": "x"}]).status_code == 400
