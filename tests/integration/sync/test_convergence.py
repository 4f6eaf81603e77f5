"""SYNC.md invariants 1, 2, 3, 5, 6, 8 as a Hypothesis state machine over 3 real SQLCipher stations.

Writes on every station, partitions and heals, dropped/duplicated/reordered frames, clock
skew and restarts; at the end the network heals, clocks catch up, and every station must
hold identical replicated tables and conflict lists, every note, and every edited value
either shown, kept in a conflict, or knowingly overwritten by someone who had seen it.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from cms_desktop.storage.models import AuditEntry, OpLogRow, Patient, SyncConflict
from tests.integration.sync.stations import Station, VirtualTime, converge, deliver, make_stations

FIELDS = ("city", "phone_mobile", "address")
VALUES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Write:
    hlc: str
    patient_id: str
    key: str
    value: str
    replaced: str  # HLC of the entry whose value the writer saw on screen


def shown_writer(station: Station, patient_id: str, key: str) -> str:
    with station.store.read() as session:
        rows = session.execute(
            select(OpLogRow.hlc, OpLogRow.values_json).where(
                OpLogRow.entity == "patients",
                OpLogRow.row_id == patient_id,
                OpLogRow.applied.is_(True),
            )
        ).all()
    return max((hlc for hlc, values in rows if key in json.loads(values)), default="")


class Centre(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="cms-sync-sm-"))
        self.time = VirtualTime()
        self.stations = make_stations(self.tmp, 3, self.time)
        self.cut: set[frozenset[int]] = set()
        self.notes: list[str] = []
        self.writes: list[Write] = []
        self.rng = random.Random(7)
        # Two records every station already holds, so that edits collide from the start.
        self.patients = [self.stations[0].new_patient(f"P{i}") for i in range(2)]
        converge(self.stations)

    # --- writes ---------------------------------------------------------------------

    @rule(at=st.integers(0, 2))
    def new_patient(self, at: int) -> None:
        self.patients.append(self.stations[at].new_patient(f"P{len(self.patients)}"))

    @precondition(lambda self: self.patients)
    @rule(
        at=st.integers(0, 2),
        which=st.integers(0, 3),
        key=st.sampled_from(FIELDS),
        value=st.sampled_from(VALUES),
    )
    def edit(self, at: int, which: int, key: str, value: str) -> None:
        station = self.stations[at]
        patient_id = self.patients[which % len(self.patients)]
        replaced = shown_writer(station, patient_id, key)
        done = station.set_field(patient_id, key, f"{value}{len(self.writes)}")
        if done is not None:
            self.writes.append(
                Write(done[0], patient_id, key, f"{value}{len(self.writes)}", replaced)
            )

    @precondition(lambda self: self.patients)
    @rule(
        first=st.integers(0, 2),
        second=st.integers(0, 2),
        which=st.integers(0, 3),
        key=st.sampled_from(FIELDS),
    )
    def concurrent_edits(self, first: int, second: int, which: int, key: str) -> None:
        """Two stations change the same field before hearing from each other."""
        if first != second:
            for at in (first, second):
                self.edit(at, which, key, "X")

    @rule(at=st.integers(0, 2))
    def note(self, at: int) -> None:
        self.notes.append(self.stations[at].write_note(f"note {len(self.notes)}"))

    # --- network, clocks, crashes ----------------------------------------------------

    @rule(
        src=st.integers(0, 2),
        dst=st.integers(0, 2),
        mode=st.sampled_from(["all", "drop", "duplicate", "reorder"]),
        size=st.sampled_from([1, 3, 1000]),
    )
    def sync(self, src: int, dst: int, mode: str, size: int) -> None:
        if src == dst or frozenset({src, dst}) in self.cut:
            return
        deliver(self.stations[src], self.stations[dst], mode, self.rng, batch_size=size)

    @rule(a=st.integers(0, 2), b=st.integers(0, 2))
    def partition(self, a: int, b: int) -> None:
        if a != b:
            self.cut.add(frozenset({a, b}))

    @rule()
    def heal(self) -> None:
        self.cut.clear()

    @rule(at=st.integers(0, 2), minutes=st.sampled_from([0, 2, 30, 120]))
    def skew(self, at: int, minutes: int) -> None:
        self.stations[at].skew_ms = minutes * 60_000

    @rule(minutes=st.sampled_from([1, 10, 60]))
    def tick(self, minutes: int) -> None:
        self.time.advance(minutes)

    @rule(at=st.integers(0, 2))
    def restart(self, at: int) -> None:
        self.stations[at].restart()

    @rule(at=st.integers(0, 2))
    def retry(self, at: int) -> None:
        self.stations[at].replica.retry_held()

    @invariant()
    def vector_agrees_with_data(self) -> None:
        for station in self.stations:
            assert station.vector_matches_log()

    # --- the end: heal everything and check ---------------------------------------

    def teardown(self) -> None:
        try:
            self.check_convergence()
        finally:
            for station in self.stations:
                station.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def check_convergence(self) -> None:
        for station in self.stations:
            station.skew_ms = 0
        self.time.advance(240)  # every clock-held entry is now acceptable
        converge(self.stations, rounds=6)
        first = self.stations[0]
        tables = first.snapshot()
        for other in self.stations[1:]:
            assert other.replica.vector() == first.replica.vector()
            assert other.snapshot() == tables, "stations differ after healing"
            assert other.conflicts() == first.conflicts()
        for station in self.stations:
            assert station.replica.held_summary().total == 0
        with first.store.read() as session:
            notes = set(session.scalars(select(AuditEntry.id)))
            assert set(self.notes) <= notes, "a note was lost"
            kept = {
                (c.row_id, c.field, c.kept_version) for c in session.scalars(select(SyncConflict))
            }
            for write in self.writes:
                patient = session.get(Patient, write.patient_id)
                assert patient is not None
                shown = getattr(patient, write.key) == write.value
                in_conflict = (write.patient_id, write.key, write.hlc) in kept
                overwritten_knowingly = any(
                    other.replaced == write.hlc
                    for other in self.writes
                    if other.patient_id == write.patient_id and other.key == write.key
                )
                assert shown or in_conflict or overwritten_knowingly, "silent overwrite"


Centre.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestConvergence = Centre.TestCase
