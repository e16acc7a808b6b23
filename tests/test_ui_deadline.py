"""A request's deadline and cancellation (explorer/ui/deadline.py): work stops at its next check."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.ui.deadline import RequestStopped, cancel_session, cancellable, check_deadline, request_deadline


def test_outside_a_request_nothing_is_ever_stopped():
    check_deadline()


def test_a_request_past_its_deadline_stops_at_the_next_check():
    with request_deadline(0.05):
        check_deadline()
        time.sleep(0.1)
        with pytest.raises(RequestStopped, match=r"longer than this server allows \(0.05 s\)"):
            check_deadline()


def test_no_deadline_means_none():
    with request_deadline(None):
        time.sleep(0.01)
        check_deadline()


def test_the_stop_button_cancels_only_its_own_session():
    started, stopped, other_done = threading.Event(), [], threading.Event()

    def work(session: str, record: list) -> None:
        with request_deadline(None), cancellable(session):
            started.set()
            try:
                for _ in range(200):
                    check_deadline()
                    time.sleep(0.01)
            except RequestStopped as error:
                record.append(str(error))

    other: list = []
    mine = threading.Thread(target=work, args=("mine", stopped))
    theirs = threading.Thread(target=lambda: (work("theirs", other), other_done.set()))
    mine.start()
    theirs.start()
    started.wait(5)
    time.sleep(0.05)
    assert cancel_session("mine") == 1
    mine.join(5)
    assert stopped and "Stopped, as asked" in stopped[0]
    assert not other_done.is_set()  # the other session's work goes on
    cancel_session("theirs")
    theirs.join(5)
    assert cancel_session("mine") == 0  # nothing left registered
