"""Video: a service token from the PDS, then Bluesky's video service (networks.md, Video).

    GET  com.atproto.server.getServiceAuth?aud=did:web:<pds host>&lxm=<uploadBlob>&exp=
    POST app.bsky.video.uploadVideo?did=&name=  (Bearer <service token>, the mp4 as body)
    GET  app.bsky.video.getJobStatus?jobId=     -> {"jobStatus": {state, progress, blob?}}

The video service answers uploadVideo with the job status itself, not wrapped in
`jobStatus` as its lexicon says (networks.md; Bluesky's own app reads it flat). The
fake serves the video service on the same port as the PDS.
"""

from __future__ import annotations

import secrets
from typing import Any

from fakebluesky.state import Blob, ServiceToken, VideoJob, World
from fakebluesky.xrpc import MAX_VIDEO_BYTES, bearer_token, blob_json, invalid, xrpc_error
from fakex.wire import Request, Response

UPLOAD_LXM = "com.atproto.repo.uploadBlob"
# [inf] the longest a service token may live; the PDS refuses a later `exp`.
MAX_SERVICE_TOKEN_SECONDS = 60 * 60


def get_service_auth(world: World, request: Request, did: str) -> Response:
    query = request.query
    with world.lock:
        now = world.now()
        try:
            expires_at = float(query.get("exp") or now + 60)
        except ValueError:
            return invalid("exp must be a number of seconds since the epoch")
        if expires_at - now > MAX_SERVICE_TOKEN_SECONDS:
            return xrpc_error(400, "BadExpiration", "expiration is too far in the future")
        token = secrets.token_urlsafe(24)
        world.service_tokens[token] = ServiceToken(
            did=did, aud=query.get("aud", ""), lxm=query.get("lxm", ""), expires_at=expires_at
        )
    return Response(200, {"token": token})


def upload_video(world: World, request: Request) -> Response:
    with world.lock:
        token = world.service_tokens.get(bearer_token(request))
        if token is None or token.expires_at <= world.now():
            return xrpc_error(401, "AuthRequired", "Could not verify the service token")
        if token.lxm != UPLOAD_LXM or not token.aud.startswith("did:web:"):
            return xrpc_error(401, "AuthRequired", "The service token is for another method")
        account = world.accounts[token.did]
        if not account.email:
            # [inf] the wording; networks.md: the account's email must be verified.
            return xrpc_error(
                403, "Forbidden", "Confirm your email address before uploading videos"
            )
        if len(request.body) > MAX_VIDEO_BYTES:
            return invalid(f"Video is larger than {MAX_VIDEO_BYTES} bytes")
        blob = Blob(
            cid=world.blob_cid(request.body),
            mime_type="video/mp4",
            size=len(request.body),
            owner_did=token.did,
        )
        job = VideoJob(
            job_id=secrets.token_hex(8),
            did=token.did,
            blob_cid=blob.cid,
            done_at=world.now() + world.video.processing_seconds,
            outcome=world.video.outcome,
        )
        world.video_jobs[job.job_id] = job
        world.blobs.setdefault(blob.cid, blob)
        return Response(200, _job_status(world, job))


def get_job_status(world: World, request: Request) -> Response:
    with world.lock:
        job = world.video_jobs.get(request.query.get("jobId", ""))
        if job is None:
            return invalid("Job not found")
        return Response(200, {"jobStatus": _job_status(world, job)})


def _job_status(world: World, job: VideoJob) -> dict[str, Any]:
    status: dict[str, Any] = {"jobId": job.job_id, "did": job.did}
    if world.now() < job.done_at:
        return {**status, "state": "JOB_STATE_ENCODING", "progress": 50}
    if job.outcome == "failed":
        return {
            **status,
            "state": "JOB_STATE_FAILED",
            "error": "Video could not be encoded",
            "failureCode": "encoding_failure",
        }
    return {
        **status,
        "state": "JOB_STATE_COMPLETED",
        "progress": 100,
        "blob": blob_json(world.blobs[job.blob_cid]),
    }
