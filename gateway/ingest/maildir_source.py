"""A local Maildir as a mail source: the embedded default, and a drop folder for ops."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import structlog

from gateway.config import MailboxConfig
from gateway.ingest.store import RawStore
from gateway.storage.repo import IncomingRaw
from gateway.waiting import wait_any

__all__ = ["MaildirSource", "ensure_maildir"]

log = structlog.get_logger("aiguilleur.ingest.maildir")


def ensure_maildir(path: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)


class MaildirSource:
    """Reads ``new/`` and ``cur/``; after the commit, renames each file into the processed folder
    (a Maildir++ sub-folder), which is atomic on one file system."""

    def __init__(self, mailbox: MailboxConfig, store: RawStore) -> None:
        assert mailbox.maildir_path is not None
        self._mailbox = mailbox
        self._root = mailbox.maildir_path
        self._processed = self._root / f".{mailbox.processed_folder}"
        self._store = store
        ensure_maildir(self._root)
        ensure_maildir(self._processed)

    def _pending(self) -> list[Path]:
        files: list[Path] = []
        for sub in ("new", "cur"):
            files.extend(p for p in (self._root / sub).iterdir() if p.is_file())
        return sorted(files, key=lambda p: p.name)

    async def sync_once(self) -> int:
        files = await asyncio.to_thread(self._pending)
        batch = self._mailbox.fetch_batch
        done = 0
        for start in range(0, len(files), batch):
            chunk = files[start : start + batch]
            items = [
                IncomingRaw(
                    mailbox=self._mailbox.name,
                    raw=await asyncio.to_thread(path.read_bytes),
                    source_key=path.name.split(":", 1)[0],
                )
                for path in chunk
            ]
            await self._store.commit(items, mailbox=self._mailbox.name)
            for path in chunk:
                target = self._processed / "cur" / path.name
                await asyncio.to_thread(os.replace, path, target)
            done += len(chunk)
        if done:
            log.info("maildir_synced", mailbox=self._mailbox.name, messages=done)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        await self._store.mark(self._mailbox.name, connected=True)
        while not stop.is_set():
            try:
                await self.sync_once()
            except OSError as exc:
                log.error("maildir_error", mailbox=self._mailbox.name, error=str(exc)[:200])
            await wait_any(stop, timeout=self._mailbox.poll_interval)
