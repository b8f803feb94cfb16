"""Job functions. Their dotted paths are public API: RQ stores them in Redis.

Each job takes ids (strings) and an ``idempotency_key``, is enqueued with ``Retry`` and a
timeout (:meth:`hub.queues.Queues.enqueue`), and runs through
:func:`hub.jobs.runtime.idempotent`. One module per domain; every job function is
re-exported here so its path is ``hub.jobs.<name>``.

    hub.jobs.recompute_application   recompute an application's derived fields
    hub.jobs.screen_applications     screen one chunk of a screening run (engines)
    hub.jobs.rank_screening_run      rank a screening run and write its shortlist (engines)
    hub.jobs.sync_screening_results  queue the write-back of a finished screening run to the HR system
    hub.jobs.write_back_screening_results  write one batch of a run's results to the HR system
    hub.jobs.score_interview_session score an interview session against its job's rubric (engines)
    hub.jobs.generate_interview_outline  generate an interview outline for an application (engines)
    hub.jobs.reencrypt_tenant        move a tenant's sealed values onto its primary data key
    hub.jobs.run_workflows           run a tenant's automation rules on its new events
    hub.jobs.sync_model              read one model of a connection from its upstream (one sync run)
    hub.jobs.process_webhook         process a verified inbound webhook (fetch, normalize, upsert)
    hub.jobs.write_back              one idempotent write-back to an upstream system
    hub.jobs.dispatch_webhooks       fan a tenant's new events out to its webhook subscriptions
    hub.jobs.deliver_webhook         one signed outbound webhook delivery attempt
"""

from importlib import import_module
from typing import Any

#: Where each job function lives. A job function is imported on first use (PEP 562): RQ resolves
#: ``hub.jobs.<name>`` with getattr, and a process that only enqueues jobs (the web process) does not load
#: the engines' NLP pipeline with them.
_HOMES = {
    "generate_interview_outline": "hub.jobs.engines",
    "rank_screening_run": "hub.jobs.engines",
    "score_interview_session": "hub.jobs.engines",
    "screen_applications": "hub.jobs.engines",
    "sync_screening_results": "hub.jobs.engines",
    "write_back_screening_results": "hub.jobs.engines",
    "reencrypt_tenant": "hub.jobs.keys",
    "recompute_application": "hub.jobs.recruiting",
    "configure": "hub.jobs.runtime",
    "release_thread": "hub.jobs.runtime",
    "deliver_webhook": "hub.jobs.sync",
    "dispatch_webhooks": "hub.jobs.sync",
    "process_webhook": "hub.jobs.sync",
    "sync_model": "hub.jobs.sync",
    "write_back": "hub.jobs.sync",
    "run_workflows": "hub.jobs.workflows",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'hub.jobs' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


__all__ = sorted(_HOMES)
