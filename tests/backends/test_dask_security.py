"""The dask backend's own local cluster serves this process alone.

It listens on 127.0.0.1, where every local user can reach it, and a Dask
client runs any code it likes there; so a client without the run's credentials
must not get in, whether it speaks plain TCP, brings credentials of its own, or
trusts the certificate the cluster shows anyone but has no key of the run;
and the plain HTTP servers beside it show nothing but their health.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import urllib.error
import urllib.request

import pytest

from poolside import run
from tests import engine_tasks as tasks
from tests.backends.test_contract import leftovers, processes

pytest.importorskip("distributed")
pytest.importorskip("cryptography")

CONNECT_S = 5  # bounds each attempt to get in; a refusal comes well before it


@pytest.fixture
def backend(monkeypatch):
    """A started dask backend on its own local cluster, shut down (and checked gone) at the end."""
    from poolside.backends.dask import ADDRESS_VARIABLE, DaskBackend

    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    before = processes()
    backend = DaskBackend(tasks.square, 2, timeout=None, origin=time.perf_counter())
    try:
        backend.start()
        yield backend
    finally:
        backend.shutdown(cancel=True)
        assert not leftovers(before), "the cluster's processes outlived its shutdown"


def _addresses(backend) -> list[str]:
    cluster = backend._cluster
    return [cluster.scheduler_address, *(w.worker_address for w in cluster.workers.values())]


async def _identity(address: str, **connection_args) -> dict:
    """Ask a scheduler or worker who it is: the least a connection that got in can do."""
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_S, **connection_args)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        await comm.close()


def test_the_local_cluster_speaks_tls_on_loopback_only(backend):
    for address in _addresses(backend):
        assert address.startswith("tls://127.0.0.1:"), address


def test_a_client_without_credentials_is_refused(backend):
    from distributed import Client

    plain = backend._cluster.scheduler_address.replace("tls://", "tcp://", 1)
    with pytest.raises(OSError):
        Client(plain, timeout=f"{CONNECT_S}s")


def test_a_client_with_other_credentials_is_refused(backend):
    from distributed import Client
    from distributed.security import Security

    with pytest.raises(OSError):
        Client(backend._cluster.scheduler_address, timeout=f"{CONNECT_S}s", security=Security.temporary())


def test_knowing_the_clusters_certificate_is_not_enough(backend):
    """The cluster shows its certificate to anyone; without the key of the run, scheduler and workers refuse."""
    security = backend._cluster.security
    trusting = ssl.create_default_context(cadata=security.tls_ca_file)
    trusting.check_hostname = False  # the certificate names "dask-internal", not 127.0.0.1
    for address in _addresses(backend):
        # The run's own credentials get in, so a refusal below is the missing key's doing.
        assert asyncio.run(_identity(address, **security.get_connection_args("client")))["type"]
        with pytest.raises(OSError):
            asyncio.run(_identity(address, ssl_context=trusting))


def _http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=CONNECT_S) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def test_its_http_servers_show_nothing_but_their_health(backend):
    scheduler_port = backend._cluster.scheduler.http_server.port
    worker_ports = list(backend._client.run(lambda dask_worker: dask_worker.http_server.port).values())
    assert len(worker_ports) == 2
    # /health answering shows the request reached the server, so a 404 is the route being gone.
    for port, pages in [(scheduler_port, ["/info/main/workers.html", "/json/counts.json", "/metrics"]),
                        *((port, ["/metrics"]) for port in worker_ports)]:
        assert _http_status(port, "/health") == 200
        for page in pages:
            assert _http_status(port, page) == 404, page


@pytest.mark.slow  # a local cluster: ~1 s to start
def test_a_run_on_its_secured_local_cluster_works_and_leaves_nothing(monkeypatch):
    from poolside.backends.dask import ADDRESS_VARIABLE

    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    before = processes()
    job = run(tasks.square, range(40), backend="dask", workers=2, chunk_size=4)
    outcomes = list(job)
    assert sorted((o.item, o.value) for o in outcomes) == [(i, i * i) for i in range(40)]
    assert job.summary.counts == {"ok": 40, "failed": 0, "timed_out": 0, "cancelled": 0}
    assert not leftovers(before), "the cluster's processes outlived the run"
