"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, JSON bodies.

The benchmarks run on small machines where the load generator shares the cores with the server
and the worker it measures. A general-purpose client (connection pools, header models, URL
parsing per request) spends more CPU per request than the benchmark needs, CPU that the system
under test then lacks.
This one sends prepared bytes and reads the status line, the headers and a `Content-Length`
body, which is all a loopback benchmark against our own server needs.

    >>> responses = asyncio.run(post_json_all("http://127.0.0.1:8000", "/v1/events", bodies,
    ...                                       headers={"X-API-Key": key}, concurrency=16))
    >>> {r.status_code for r in responses}
    {202}
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec


class LoadError(RuntimeError):
    """The server answered something this client does not read (no Content-Length, a cut stream)."""


@dataclass(frozen=True)
class Response:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.content)


async def post_json_all(
    base_url: str,
    path: str,
    bodies: list[Any],
    *,
    headers: dict[str, str] | None = None,
    concurrency: int = 16,
    timeout_s: float = 30,
) -> list[Response]:
    """POST each body (as JSON) to `base_url + path` over `concurrency` connections; the
    responses come back in the order of `bodies`."""
    target = urlsplit(base_url)
    head = f"POST {path} HTTP/1.1\r\nHost: {target.netloc}\r\nContent-Type: application/json\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in (headers or {}).items()
    )
    results: list[Response | None] = [None] * len(bodies)
    pending = iter(range(len(bodies)))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(target.hostname, target.port or 80)
        try:
            for index in pending:
                payload = msgspec.json.encode(bodies[index])
                writer.write(f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
                results[index] = await asyncio.wait_for(_read_response(reader), timeout_s)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(concurrency, max(len(bodies), 1)))))
    return [response for response in results if response is not None]


async def _read_response(reader: asyncio.StreamReader) -> Response:
    status_line = await reader.readline()
    if not status_line:
        raise LoadError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = None
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise LoadError(f"a {status} response without Content-Length")
    return Response(status, await reader.readexactly(length))
