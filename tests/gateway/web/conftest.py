from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from gateway.config import Config
from gateway.storage.db import make_engine
from gateway.web.app import create_app
from gateway.web.context import WebContext
from tests.support.web import make_users, web_config


@dataclass
class Web:
    config: Config
    engine: Engine
    ctx: WebContext

    def client(self) -> TestClient:
        return TestClient(create_app(self.ctx), base_url="http://testserver")


@pytest.fixture
def web(db_url: str, tmp_path: Path) -> Iterator[Web]:
    config = web_config(db_url, tmp_path)
    engine = make_engine(db_url)
    make_users(engine)
    try:
        yield Web(config, engine, WebContext.build(config, engine))
    finally:
        engine.dispose()
