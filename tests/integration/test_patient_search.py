"""Search as you type through the service, on the trigger-maintained index."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text, update

from cms_desktop.domain.nir import compute_nir_key
from cms_desktop.services import patients
from cms_desktop.storage.models import Patient
from tests.patient_helpers import form, make_nir


@pytest.fixture
def clerk(centre):
    ws, actor = centre.login("accueil")
    yield ws, actor
    ws.close()


def _ids(ws, actor, query: str) -> list[str]:
    return [h.id for h in patients.search_patients(ws, actor, query, limit=500)]


def test_name_words_dates_nir_and_phones(clerk) -> None:
    ws, actor = clerk
    nir = make_nir("F", date(1975, 11, 23), dept="2A", commune="004")
    claire = patients.create_patient(
        ws,
        actor,
        form(
            birth_name="Le Bihan",
            used_name="Martin-Lefèvre",
            first_given_name="Claire",
            given_names="Claire Hélène",
            sex="F",
            birth_date="23/11/1975",
            nir=nir,
            phone_mobile="+33 7 81 22 33 44",
            phone_home="02 33 44 55 66",
        ),
    )
    jean = patients.create_patient(ws, actor, form())
    for query in (
        "bih",
        "LEFEV",
        "lefèv cla",
        "hel",
        "mart clai",
        "23/11/1975",
        "23/11",
        "23/1",
        "11/1975",
        "1975",
        "2 75 11 2A",
        "275112a004",
        "07 81 22",
        "+33781",
        "0033 7 81 22 33 44",
        "02.33.44",
        "claire 1975",
    ):
        assert _ids(ws, actor, query) == [claire], query
    assert _ids(ws, actor, "dup jea") == [jean]
    assert _ids(ws, actor, "05/03/1980") == [jean]
    assert _ids(ws, actor, "claire 1980") == []
    assert _ids(ws, actor, "zzz") == []
    assert _ids(ws, actor, "   ") == []
    hit = patients.search_patients(ws, actor, "bihan")[0]
    assert hit.display_name == "MARTIN-LEFÈVRE (née LE BIHAN) Claire"
    assert hit.birth_date_text == "23/11/1975"
    assert hit.nir_masked == f"2 75 11 •• ••• ••• {nir[13:]}"
    assert hit.phone == "07 81 22 33 44"


def test_sql_looking_and_huge_queries_are_plain_text(clerk) -> None:
    ws, actor = clerk
    patients.create_patient(ws, actor, form())
    assert _ids(ws, actor, "dup'; DROP TABLE patients; --") == []
    assert len(_ids(ws, actor, "dup" + " jea" * 5000)) == 1


def test_merged_and_tombstoned_patients_are_not_found(clerk) -> None:
    ws, actor = clerk
    pid = patients.create_patient(ws, actor, form())
    with ws.store.write() as session:
        session.get(Patient, pid).deleted = True
    assert _ids(ws, actor, "dupont") == []


def test_index_follows_writes_that_bypass_the_services(clerk) -> None:
    """What the sync does: plain SQL on ``patients``, without the op-log capture."""
    ws, actor = clerk
    pid = patients.create_patient(ws, actor, form())
    with ws.store.write() as session:
        session.info["applying_remote"] = True
        session.execute(update(Patient).where(Patient.id == pid).values(birth_name="Zidane"))
        session.execute(
            insert(Patient).values(
                id="remote-1",
                version="x",
                deleted=False,
                birth_name="Remote",
                used_name="",
                first_given_name="Anne",
                given_names="",
                used_given_name="",
                birth_date=date(1990, 1, 2),
                sex="F",
            )
        )
    assert _ids(ws, actor, "dupont") == []
    assert _ids(ws, actor, "zid jea") == [pid]
    assert _ids(ws, actor, "remote anne") == ["remote-1"]
    with ws.store.write() as session:
        session.execute(
            text("UPDATE patients SET merged_into_id = :p WHERE id = 'remote-1'"), {"p": pid}
        )
    assert _ids(ws, actor, "remote") == []


def test_results_are_limited_and_ordered(clerk) -> None:
    ws, actor = clerk
    with ws.store.write() as session:
        for n, name in enumerate(["Durand", "Dubois", "Dupuis", "Dumas", "Dufour"]):
            session.add(
                Patient(
                    birth_name=name,
                    first_given_name="Luc",
                    birth_date=date(1950 + n, 1, 1),
                    sex="M",
                )
            )
    names = [h.display_name for h in patients.search_patients(ws, actor, "du", limit=3)]
    assert names == ["DUBOIS Luc", "DUFOUR Luc", "DUMAS Luc"]


_ACCENTS = {
    "a": "aàâä",
    "e": "eéèêë",
    "i": "iîï",
    "o": "oôö",
    "u": "uùûü",
    "c": "cç",
    "y": "yÿ",
    "n": "nñ",
}


@st.composite
def _accented(draw: st.DrawFn, base: str) -> str:
    letters = [draw(st.sampled_from(_ACCENTS.get(ch, ch))) for ch in base]
    word = "".join(letters)
    return draw(st.sampled_from([word, word.upper(), word.capitalize()]))


_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), family=_words, given_name=_words, pick=st.sampled_from(["f", "g"]))
def test_found_by_any_prefix_of_any_name_word_in_any_accent_or_case(
    clerk, data, family: str, given_name: str, pick: str
) -> None:
    ws, actor = clerk
    typed = form(
        birth_name=data.draw(_accented(family)),
        first_given_name=data.draw(_accented(given_name)),
        given_names="",
        phone_mobile="",
    )
    known = tuple(c.id for c in patients.find_duplicates(ws, actor, typed))
    pid = patients.create_patient(ws, actor, typed, confirmed_not_duplicate_of=known)
    word = family if pick == "f" else given_name
    size = data.draw(st.integers(min_value=1, max_value=len(word)))
    query = data.draw(_accented(word[:size]))
    assert pid in _ids(ws, actor, query)


def test_corsican_nir_key_rule_is_searchable(clerk) -> None:
    ws, actor = clerk
    first13 = "180032B00512"[:12] + "3"
    nir = first13 + f"{compute_nir_key(first13):02d}"
    pid = patients.create_patient(ws, actor, form(birth_date="01/03/1980", nir=nir))
    assert _ids(ws, actor, nir[:9]) == [pid]
