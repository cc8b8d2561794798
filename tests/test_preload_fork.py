"""gunicorn's ``preload_app``: the master builds the app once and forks the workers from it.

Building the app opens connections (migrations, the queue's schema, the sandbox's tables); a
worker that inherited one would share its socket or SQLite handle with the master and its
siblings. gunicorn.conf.py's ``pre_fork`` closes them before every fork; the engines and the
queue reconnect on their next use, in the process that uses them.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from bench import common
from connector.config import PROJECT_ROOT
from connector.store import Submission
from tests import backends
from tests.conftest import base_env
from tests.helpers import open_files

GUNICORN_CONF = PROJECT_ROOT / "gunicorn.conf.py"


#: A one-machine deployment, whatever the developer's own .env says (the environment wins).
EMBEDDED = {"DATABASE_URL": "", "REDIS_URL": "", "WORKER_MODE": ""}
PRODUCTION = {"DATABASE_URL": "postgresql://connector@db.example.com/connector",
              "REDIS_URL": "redis://redis.example.com:6379/0", "WORKER_MODE": "external"}


def gunicorn_conf(**env: str) -> dict[str, Any]:
    """gunicorn.conf.py's settings with ``env`` on top of an embedded deployment's."""
    env = {**EMBEDDED, **env}
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        return runpy.run_path(str(GUNICORN_CONF))
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def server(app: Flask | None, *, preload: bool) -> Any:
    def wsgi() -> Flask:
        assert app is not None, "pre_fork must not load the app when it is not preloaded"
        return app

    return SimpleNamespace(cfg=SimpleNamespace(preload_app=preload), app=SimpleNamespace(wsgi=wsgi))


def open_connections(app: Flask) -> dict[str, int]:
    svc = app.extensions["halo_connector"]
    sandbox = app.extensions.get("halo_sandbox")
    counts = {"store": svc.store.engine.pool.checkedin()}
    if not backends.production():
        counts["queue"] = int(svc.huey.storage._conn is not None)
    if sandbox is not None:
        counts["sandbox"] = sandbox.store.engine.pool.checkedin()
    return counts


def webhook(app: Flask, event_id: str) -> int:
    raw = common.typeform_body(event_id)
    return app.test_client().post("/hooks/typeform", data=raw, headers=common.typeform_headers(raw)).status_code


def test_workers_are_forked_from_a_preloaded_app_by_default():
    assert gunicorn_conf()["worker_class"] == "gthread"
    assert gunicorn_conf()["preload_app"] is True
    assert gunicorn_conf(GUNICORN_PRELOAD_APP="false")["preload_app"] is False
    # The same spellings as every other yes/no setting, and a typo is refused, not read as yes.
    assert gunicorn_conf(GUNICORN_PRELOAD_APP="off")["preload_app"] is False
    with pytest.raises(SystemExit, match="GUNICORN_PRELOAD_APP: expected true or false"):
        gunicorn_conf(GUNICORN_PRELOAD_APP="flase")


def test_a_deployment_that_waits_only_on_sockets_is_served_by_gevent_without_preloading():
    """PostgreSQL + Redis + external workers: gevent, whose workers import the app themselves
    after patching; any part missing means blocking work in the web process, so threads."""
    conf = gunicorn_conf(**PRODUCTION)
    assert (conf["worker_class"], conf["preload_app"], conf["worker_connections"]) == ("gevent", False, 100)
    for missing in ({"REDIS_URL": ""}, {"WORKER_MODE": "embedded"}, {"DATABASE_URL": "sqlite:///var/c.db"}):
        conf = gunicorn_conf(**{**PRODUCTION, **missing})
        assert (conf["worker_class"], conf["preload_app"]) == ("gthread", True), missing


def test_the_worker_class_follows_the_env_file_the_app_reads(tmp_path: Path, monkeypatch):
    """A deployment configured in .env (not the environment) gets gevent too, and a variable set
    in the environment still wins over the file, as it does for the app."""
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in PRODUCTION.items()))
    monkeypatch.setattr("connector.config.ENV_FILE", env_file)
    for name in PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    assert runpy.run_path(str(GUNICORN_CONF))["worker_class"] == "gevent"
    monkeypatch.setenv("WORKER_MODE", "embedded")
    assert runpy.run_path(str(GUNICORN_CONF))["worker_class"] == "gthread"


def test_the_worker_class_can_be_chosen_and_a_typo_is_refused():
    conf = gunicorn_conf(**PRODUCTION, GUNICORN_WORKER_CLASS="gthread")
    assert (conf["worker_class"], conf["preload_app"]) == ("gthread", True)
    assert gunicorn_conf(GUNICORN_WORKER_CLASS="gevent")["preload_app"] is False
    assert gunicorn_conf(GUNICORN_WORKER_CONNECTIONS="250")["worker_connections"] == 250
    with pytest.raises(SystemExit, match="^GUNICORN_WORKER_CLASS: expected one of gthread, gevent$"):
        gunicorn_conf(GUNICORN_WORKER_CLASS="eventlet")


@pytest.mark.parametrize("worker_class", ["gevent", "gunicorn.workers.ggevent.GeventWorker"])
def test_gevent_with_a_preloaded_app_is_refused_before_any_worker_starts(worker_class: str):
    """However the two were set (GUNICORN_PRELOAD_APP, --preload, -k): a preloaded app would keep
    the blocking sockets and locks it imported before gevent patched them."""
    on_starting = gunicorn_conf()["on_starting"]
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True, worker_class_str=worker_class))
    with pytest.raises(SystemExit, match="^GUNICORN_PRELOAD_APP: gevent workers cannot use a preloaded app"):
        on_starting(server)
    on_starting(SimpleNamespace(cfg=SimpleNamespace(preload_app=False, worker_class_str=worker_class)))
    on_starting(SimpleNamespace(cfg=SimpleNamespace(preload_app=True, worker_class_str="gthread")))


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("GUNICORN_WORKERS", "two", "a whole number from 1 to 256"),
    ("GUNICORN_WORKERS", "0", "a whole number from 1 to 256"),
    ("GUNICORN_WORKER_CONNECTIONS", "0", "a whole number from 1 to 100000"),
    ("GUNICORN_THREADS", "16.5", "a whole number from 1 to 1024"),
    ("GUNICORN_TIMEOUT", "-1", "a whole number from 0 to 86400"),
    ("GUNICORN_MAX_REQUESTS", "1e5", "a whole number from 0 to 1000000000"),
    ("PORT", "http", "a whole number from 1 to 65535"),
])
def test_a_bad_number_stops_the_start_naming_its_variable(name: str, value: str, expected: str):
    """Not Python's "invalid literal for int()" from inside gunicorn's config loader."""
    with pytest.raises(SystemExit, match=f"^{name}: expected {expected}$"):
        gunicorn_conf(**{name: value})


def test_numbers_in_range_are_taken_as_given():
    conf = gunicorn_conf(GUNICORN_WORKERS="3", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="0", PORT="8080")
    assert (conf["workers"], conf["threads"], conf["timeout"]) == (3, 8, 0)
    assert conf["bind"].endswith(":8080")


def test_workers_are_recycled_rarely_by_default():
    """Under load a recycle costs 1-2 s of the server's throughput (bench/README.md, "fewer worker
    recycles"), so the default is 100,000 requests, with a tenth of that as jitter so the workers
    do not all go at once; GUNICORN_MAX_REQUESTS overrides it (the recycling fault test uses 10)."""
    default = gunicorn_conf()
    assert (default["max_requests"], default["max_requests_jitter"]) == (100_000, 10_000)
    overridden = gunicorn_conf(GUNICORN_MAX_REQUESTS="10")
    assert (overridden["max_requests"], overridden["max_requests_jitter"]) == (10, 1)


def test_pre_fork_closes_what_building_the_app_opened(tmp_path: Path, make_app):
    app = make_app(base_env(tmp_path, TYPEFORM_SECRET=common.TYPEFORM_SECRET, SANDBOX_ENABLED="true"))
    assert webhook(app, "before-fork") == 202
    assert any(open_connections(app).values()), "building and using the app opened connections"
    gunicorn_conf()["pre_fork"](server(app, preload=True), None)
    assert set(open_connections(app).values()) == {0}
    assert webhook(app, "after-fork") == 202, "the engines and the queue reconnect on next use"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files through /proc")
def test_after_pre_fork_the_master_holds_no_database_file_open(tmp_path: Path, make_app):
    """The same, seen from the kernel: a connection that the pools do not count (one held only by
    a reference cycle, say) would still cross the fork, and a SQLite file open across a fork can
    lose the child's commits (tests/test_sqlite_writer.py)."""
    app = make_app(base_env(tmp_path, TYPEFORM_SECRET=common.TYPEFORM_SECRET, SANDBOX_ENABLED="true"))
    assert webhook(app, "before-fork") == 202
    assert open_files(tmp_path), "building and using the app opened its database files"
    gunicorn_conf()["pre_fork"](server(app, preload=True), None)
    assert open_files(tmp_path) == []


def test_without_preload_pre_fork_leaves_the_master_alone():
    gunicorn_conf()["pre_fork"](server(None, preload=False), None)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_child_forked_after_the_release_stores_on_its_own_connections(tmp_path: Path, make_app):
    app = make_app(base_env(tmp_path, TYPEFORM_SECRET=common.TYPEFORM_SECRET))
    assert webhook(app, "parent-1") == 202
    gunicorn_conf()["pre_fork"](server(app, preload=True), None)
    pid = os.fork()
    if pid == 0:  # the worker: answer one webhook and leave without running the parent's cleanup
        code = 0 if webhook(app, "child-1") == 202 else 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert webhook(app, "parent-2") == 202
    with app.extensions["halo_connector"].store.session() as session:
        stored = sorted(session.execute(select(Submission.event_id)).scalars())
    assert stored == ["child-1", "parent-1", "parent-2"]
