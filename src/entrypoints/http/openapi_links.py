"""OpenAPI links: how an answer's ids feed other operations (a created clip → reading,
voting on or marking it; a started stream → its chat …). Clients and stateful API testers
follow them; Litestar has no option for them, so an operation class adds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import Link, OpenAPIResponse, Operation


def operation_ref(method: str, path: str) -> str:
    """A JSON pointer to the operation ``method path`` of this document."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method.lower()


def link(
    method: str,
    path: str,
    description: str,
    parameters: dict[str, str] | None = None,
    body: Any = None,
) -> Link:
    return Link(
        operation_ref=operation_ref(method, path),
        description=description,
        parameters=parameters,
        request_body=body,
    )


def linked(statuses: tuple[int, ...], **links: Link) -> type[Operation]:
    """An operation class adding ``links`` to the responses with ``statuses``."""

    @dataclass
    class LinkedOperation(Operation):
        def __post_init__(self) -> None:
            for status in statuses:
                response = (self.responses or {}).get(str(status))
                if isinstance(response, OpenAPIResponse):
                    response.links = {**(response.links or {}), **links}

    return LinkedOperation


def clip_links(clip_id: str) -> dict[str, Link]:
    """What can be done with a clip whose id is at the runtime expression ``clip_id``."""
    return {
        "GetClip": link("GET", "/clips/{clip_id}", "The clip", {"clip_id": clip_id}),
        "GetClipAudio": link("GET", "/clips/{clip_id}/audio", "Its audio", {"clip_id": clip_id}),
        "Vote": link(
            "POST",
            "/monetization/validate",
            "Vote on it",
            body={"clipId": clip_id, "verdict": "valid"},
        ),
        "Skip": link("POST", "/monetization/skip", "Pass on it", body={"clipId": clip_id}),
        "MarkGold": link(
            "PUT", "/admin/clips/{clip_id}/gold", "Use it as gold (admin)", {"clip_id": clip_id}
        ),
        "UnmarkGold": link(
            "DELETE", "/admin/clips/{clip_id}/gold", "Stop using it as gold", {"clip_id": clip_id}
        ),
    }


def stream_links(stream_id: str) -> dict[str, Link]:
    """What can be done with a stream whose id is at the runtime expression ``stream_id``."""
    return {
        "GetStream": link("GET", "/live/{stream_id}", "The stream", {"stream_id": stream_id}),
        "ListMessages": link(
            "GET", "/live/{stream_id}/messages", "Its chat", {"stream_id": stream_id}
        ),
        "PostMessage": link(
            "POST", "/live/{stream_id}/messages", "Chat in it", {"stream_id": stream_id}
        ),
        "JoinToken": link("POST", "/live/token", "A token to join", body={"streamId": stream_id}),
        "EndStream": link("POST", "/live/end", "End it", body={"streamId": stream_id}),
    }
