"""Job functions. Their dotted paths are public API: RQ stores them in Redis.

Each job takes ids (strings) and an ``idempotency_key``, is enqueued with ``Retry`` and a
timeout (:meth:`hub.queues.Queues.enqueue`), and runs through
:func:`hub.jobs.runtime.idempotent`. One module per domain; every job function is
re-exported here so its path is ``hub.jobs.<name>``.

    hub.jobs.recompute_application   recompute an application's derived fields
    hub.jobs.reencrypt_tenant        move a tenant's sealed values onto its primary data key
"""

from hub.jobs.keys import reencrypt_tenant
from hub.jobs.recruiting import recompute_application
from hub.jobs.runtime import configure, release_thread

__all__ = ["configure", "recompute_application", "reencrypt_tenant", "release_thread"]
