"""The shared pieces: the approval engine, outbound delivery, idempotency, cursors and time formats."""

from __future__ import annotations

import socket

import httpx
import pytest

from simulators.approvals import ApprovalBook, FormField, TransitionError
from simulators.delivery import Deliverer
from simulators.idempotency import IdempotencyConflict, IdempotencyStore
from simulators.paging import clamp_page_size, decode_cursor, encode_cursor
from simulators.timefmt import epoch_ms, epoch_ms_str, epoch_s, iso_minute, iso_z, parse_epoch, parse_iso
from tests.simulators.receivers import plain_receiver

MARCH_9 = 1741486200.0  # 2025-03-09T02:10:00Z


def book() -> ApprovalBook:
    ids = iter(range(1000))
    return ApprovalBook(lambda at: f"i{next(ids)}", clock=lambda: MARCH_9)


def create(approvals: ApprovalBook, mode: str = "OR"):  # type: ignore[no-untyped-def]
    return approvals.create(
        definition="d",
        title="t",
        originator="o",
        department="1",
        form=[FormField("f", "候选人", "张伟")],
        approvers=["a", "b"],
        mode=mode,
    )


def test_or_node_any_approver_decides() -> None:
    approvals = book()
    instance = approvals.act(create(approvals), "agree", "b", "同意")
    assert instance.status == "APPROVED" and [t.status for t in instance.tasks] == ["DONE", "APPROVED"]
    assert [s.kind for s in instance.steps] == ["START", "AGREE"]
    with pytest.raises(TransitionError):
        approvals.act(instance, "refuse")
    assert approvals.act(instance, "revert").status == "REVERTED"


def test_and_node_needs_everyone_and_refusal_ends_it() -> None:
    approvals = book()
    instance = approvals.act(create(approvals, "AND"), "agree", "a")
    assert instance.status == "PENDING"
    assert approvals.act(instance, "agree", "b").status == "APPROVED"
    other = approvals.act(approvals.act(create(approvals, "AND"), "agree", "a"), "refuse", "b")
    assert other.status == "REJECTED" and other.finished_at == MARCH_9


@pytest.mark.parametrize(("action", "status"), [("cancel", "CANCELED"), ("expire", "EXPIRED"), ("delete", "DELETED")])
def test_ending_a_pending_instance(action: str, status: str) -> None:
    approvals = book()
    instance = approvals.act(create(approvals), action)
    assert instance.status == status and {t.status for t in instance.tasks} == {"CANCELED"}


def test_invalid_actions() -> None:
    approvals = book()
    instance = create(approvals)
    for action, user in (("agree", "stranger"), ("pay", None), ("revert", None), ("dance", None)):
        with pytest.raises(TransitionError):
            approvals.act(instance, action, user)
    assert approvals.act(approvals.act(instance, "agree"), "pay").status == "PAID"
    assert [i.instance_id for i in approvals.query(statuses={"PAID"})] == [instance.instance_id]


async def test_delivery_logs_unreachable_receivers_and_judges_answers() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    deliverer = Deliverer(timeout=2, keep=2)
    failed = await deliverer.send("e", f"http://127.0.0.1:{closed_port}/hook", body=b"{}", headers={})
    assert failed.status_code is None and "ConnectError" in (failed.error or "") and not failed.accepted
    receiver_app, receiver = plain_receiver()
    local = Deliverer(transport=httpx.ASGITransport(app=receiver_app), keep=2)
    receiver.status = 500
    refused = await local.send("e", "http://r/hook", body=b'{"a":1}', headers={"X-A": "1"}, params={"q": "1"})
    assert refused.status_code == 500 and refused.error == "receiver answered HTTP 500"
    receiver.status = 200
    judged = await local.send("e", "http://r/hook", body=b"{}", headers={}, judge=lambda r: "always unhappy")
    kept = await local.send("e", "http://r/hook", body=b"{}", headers={})
    assert not judged.accepted and kept.accepted and len(local.log) == 2  # keeps the newest
    assert receiver.received[0].params == {"q": "1"} and receiver.received[0].headers["x-a"] == "1"


def test_idempotency_store() -> None:
    store = IdempotencyStore()
    assert store.lookup("s", None, b"{}") is None
    store.remember("s", None, b"{}", 201, {"id": 1})  # no key: nothing to remember
    store.remember("s", "k", b'{"a": 1, "b": 2}', 201, {"id": 1})
    assert store.lookup("s", "k", b'{"b":2,"a":1}').status == 201  # type: ignore[union-attr]
    assert store.lookup("other", "k", b"{}") is None
    with pytest.raises(IdempotencyConflict):
        store.lookup("s", "k", b'{"a": 2}')


def test_cursors_and_page_sizes() -> None:
    assert decode_cursor(encode_cursor({"a": 41})) == {"a": 41}
    for bad in ("!!", "WzFd", ""):  # WzFd is base64 of [1]
        with pytest.raises(ValueError):
            decode_cursor(bad)
    assert clamp_page_size(None, default=50, maximum=100) == 50
    assert clamp_page_size("500", default=50, maximum=100) == 100
    with pytest.raises(ValueError):
        clamp_page_size("-1", default=50, maximum=100)


def test_time_formats_per_dialect() -> None:
    assert iso_z(MARCH_9 + 44) == "2025-03-09T02:10:44Z"
    assert iso_minute(MARCH_9 + 44) == "2025-03-09T02:10Z"
    assert (epoch_s(MARCH_9), epoch_ms(MARCH_9), epoch_ms_str(MARCH_9)) == (1741486200, 1741486200000, "1741486200000")
    assert (epoch_s(None), epoch_ms(None), epoch_ms_str(None), iso_z(None)) == (0, None, "0", None)
    assert parse_iso("2025-03-09T10:10:00+08:00") == parse_iso("2025-03-09T02:10Z") == MARCH_9
    assert parse_iso("2025-03-09T02:10:00") == MARCH_9
    assert parse_epoch("1741486200000", millis=True) == parse_epoch(1741486200, millis=False) == MARCH_9
