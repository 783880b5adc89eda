"""Recording clips and reading them back (SPEC §4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Stream

from adapters.audio.mutagen_inspector import FORMATS
from core.domain.clips import MAX_AUDIO_BYTES
from core.use_cases.clips import ClipUpload
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.cursors import decode_cursor, encode_cursor
from entrypoints.http.media_types import BODY_MEDIA_TYPES_OPT, MULTIPART_TYPES
from entrypoints.http.openapi import problems
from entrypoints.http.openapi_links import clip_links, linked
from entrypoints.http.ranges import byte_range
from entrypoints.http.schemas.clips import ClipForm, ClipOut, ClipPage
from entrypoints.http.schemas.wire import CursorQuery

# Every type an upload can be stored with (the audio inspector's formats).
AUDIO_MEDIA_TYPES = sorted({mime for _, mime in FORMATS.values()})


def _audio_content() -> dict[str, OpenAPIMediaType]:
    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    return {media_type: OpenAPIMediaType(schema=binary) for media_type in AUDIO_MEDIA_TYPES}


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description)


@dataclass
class AudioOperation(Operation):
    """Documents the audio route's answers: the whole audio (200), a range of it (206), or a
    redirect to the object store (307); each with its real audio types."""

    def __post_init__(self) -> None:
        ranges: dict[str, OpenAPIHeader | Reference] = {"Accept-Ranges": _header("`bytes`")}
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The whole audio, in the type it was uploaded as",
                content=_audio_content(),
                headers=ranges,
            ),
            "206": OpenAPIResponse(
                description="The requested byte range (`Range: bytes=…`)",
                content=_audio_content(),
                headers={**ranges, "Content-Range": _header("`bytes start-end/size`")},
            ),
            "307": OpenAPIResponse(
                description="The audio is at a short-lived presigned URL of the object store",
                headers={"Location": _header("The presigned URL (expires in minutes)")},
            ),
        }
        self.responses = dict(sorted(self.responses.items()))


# The audio limit plus room for the form's other fields and multipart framing.
UPLOAD_BODY_LIMIT = MAX_AUDIO_BYTES + 64 * 1024


class ClipsController(Controller):
    path = "/clips"
    tags = ["clips"]
    security = BEARER_SECURITY

    @post(
        summary="Upload a recording (idempotent by clientId)",
        description=(
            "multipart/form-data with `audio` (wav, m4a, ogg/opus, mp3, flac or aac; "
            "1–15 s; at most 5 MB), `language` (language tag), `prompt` (the sentence read, "
            "1–500 characters) and `clientId` (a UUID the phone generates). Sending the same "
            "`clientId` again returns the first clip with 200 instead of 201."
        ),
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={BODY_MEDIA_TYPES_OPT: MULTIPART_TYPES},
        responses={
            **problems(422),
            200: ResponseSpec(
                data_container=ClipOut,
                description="The same `clientId` again: the clip recorded the first time",
            ),
        },
        status_code=201,
        operation_class=linked((200, 201), **clip_links("$response.body#/id")),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        data: Annotated[ClipForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[ClipOut]:
        audio = await data.audio.read(MAX_AUDIO_BYTES + 1)
        upload = ClipUpload(
            client_id=data.clientId, language=data.language, prompt=data.prompt, audio=audio
        )
        submitted = await container_of(request).submit_clip()(principal, upload)
        return Response(
            ClipOut.of(submitted.clip, details=True), status_code=201 if submitted.created else 200
        )

    @get(
        "/mine",
        summary="My clips, newest first (with feedback on clips not accepted or taken down)",
        responses=problems(422),
    )
    async def mine(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> ClipPage:
        clips = await container_of(request).list_my_clips()(
            principal, before=decode_cursor(cursor), limit=limit
        )
        last = clips[-1].clip if len(clips) == limit else None
        return ClipPage(
            items=[ClipOut.of_view(view) for view in clips],
            next_cursor=encode_cursor(last.created_at, last.id) if last else None,
        )

    @get("/{clip_id:uuid}", summary="One clip", responses=problems(404))
    async def one(
        self, request: Request[Any, Any, Any], principal: Caller, clip_id: FromPath[UUID]
    ) -> ClipOut:
        return ClipOut.of_view(await container_of(request).view_clip()(principal, clip_id))

    @get(
        "/{clip_id:uuid}/audio",
        summary="The clip's audio, with its type as uploaded (single-range requests supported)",
        description=(
            "Answers the audio with the `Content-Type` found at upload (`audio/wav`, "
            "`audio/ogg`, `audio/flac`, `audio/mp4`, `audio/mpeg`, `audio/aac`). With an "
            "object store (`CHORUS_BLOB_STORE=s3`) the answer is `307` to a short-lived "
            "presigned URL of the store, which serves the same bytes, type and ranges; players "
            "follow it (without the `Authorization` header, as HTTP clients do across origins)."
        ),
        responses=problems(404, 416),
        media_type="application/octet-stream",
        operation_class=AudioOperation,
    )
    async def audio(
        self, request: Request[Any, Any, Any], principal: Caller, clip_id: FromPath[UUID]
    ) -> Response[Any]:
        container = container_of(request)
        clip = await container.get_clip()(principal, clip_id)
        blobs = container.blob_store()
        location = await blobs.download_url(clip.audio_key)
        if location is not None:
            # Not cached: the URL expires, and visibility is checked on every request.
            return Redirect(
                location,
                status_code=307,
                media_type=MediaType.TEXT,
                headers={"Cache-Control": "private, no-store"},
            )
        size = await blobs.size(clip.audio_key)
        chosen = byte_range(request.headers.get("range"), size)
        start, end = chosen or (0, size - 1)
        headers = {
            # Stated here: the route's media type would otherwise override the stream's.
            "Content-Type": clip.audio.mime_type,
            "Accept-Ranges": "bytes",
            "Content-Length": str(end - start + 1),
            "Cache-Control": "private, max-age=3600",
        }
        if chosen:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"

        async def body() -> AsyncIterator[bytes]:
            async for chunk in blobs.read(clip.audio_key, start, end):
                yield chunk

        return Stream(
            body(),
            media_type=clip.audio.mime_type,
            status_code=206 if chosen else 200,
            headers=headers,
        )
