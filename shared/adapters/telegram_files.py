"""Files parents send the bot (voice notes), fetched through the Bot API: getFile, then the download URL.

Plain httpx, called from the conversation's worker thread; the size is checked before and during the
download, so a lying or missing `file_size` cannot make the function read more than the limit, and the
whole download has a deadline (httpx's timeout bounds each read, not a slow trickle of them).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from shared.ports import FileUnavailable


class TelegramFiles:
    def __init__(self, *, api_url: str, token: str, timeout: float = 10.0) -> None:
        self._api = f"{api_url}/bot{token}"
        self._files = f"{api_url}/file/bot{token}"
        self._http = httpx.Client(timeout=timeout)
        self._budget = 2 * timeout

    def download(self, file_id: str, max_bytes: int) -> tuple[bytes, str]:
        deadline = time.monotonic() + self._budget
        try:
            response = self._http.post(f"{self._api}/getFile", json={"file_id": file_id})
            body: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise FileUnavailable(f"getFile: {type(exc).__name__}") from exc
        if not isinstance(body, dict) or response.status_code != 200 or not body.get("ok"):
            description = body.get("description", "") if isinstance(body, dict) else ""
            raise FileUnavailable(f"getFile {response.status_code}: {description}")
        info = body.get("result")
        path = info.get("file_path") if isinstance(info, dict) else None
        if not isinstance(path, str) or not path:
            raise FileUnavailable("getFile returned no file_path")
        size = info.get("file_size") if isinstance(info, dict) else None
        if isinstance(size, int) and size > max_bytes:
            raise FileUnavailable(f"file larger than {max_bytes} bytes")
        try:
            with self._http.stream("GET", f"{self._files}/{path}") as stream:
                if stream.status_code != 200:
                    raise FileUnavailable(f"file download {stream.status_code}")
                content = bytearray()
                for chunk in stream.iter_bytes():
                    content += chunk
                    if len(content) > max_bytes:
                        raise FileUnavailable(f"file larger than {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise FileUnavailable(f"download slower than {self._budget:.0f} s")
        except httpx.HTTPError as exc:
            raise FileUnavailable(f"file download: {type(exc).__name__}") from exc
        return bytes(content), path
