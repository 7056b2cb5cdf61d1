"""Dedup keys in their documented form (the README), and the cap at PagerDuty's 255 characters."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbtk.policy import keys
from rbtk.policy.keys import MAX_DEDUP_KEY, cap
from rbtk.policy.state import Tick
from tests.policy.factories import at, completed_run, pool_offline, pool_online, release, run


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param(
            keys.pool_offline("warehouse", "onprem-airgapped"),
            "rbtk:pool-offline:warehouse:onprem-airgapped",
            id="pool offline",
        ),
        pytest.param(
            keys.evidence_fail("warehouse", "v1.4.0"),
            "rbtk:evidence-fail:warehouse:v1.4.0",
            id="evidence pack failure",
        ),
        pytest.param(
            keys.postrelease_fail("warehouse", "main", "nav/test_lidar.py::test_scan"),
            "rbtk:postrelease-fail:warehouse:main:nav/test_lidar.py::test_scan",
            id="post-release test failure",
        ),
        pytest.param(
            keys.standard_amendment("warehouse", "ISO-26262", "A2"),
            "rbtk:standard-amendment:warehouse:ISO-26262:A2",
            id="standard amendment",
        ),
        pytest.param(
            keys.test_event("pd-production", "01J0XYZ"),
            "rbtk:test:pd-production:01J0XYZ",
            id="test event",
        ),
    ],
)
def test_dedup_keys_are_exactly_the_documented_formats(key: str, expected: str) -> None:
    assert key == expected


def test_a_key_of_exactly_255_characters_is_kept_as_it_is() -> None:
    key = "rbtk:pool-offline:warehouse:" + "p" * (255 - len("rbtk:pool-offline:warehouse:"))
    assert len(key) == 255
    assert cap(key) == key


def test_a_key_over_255_characters_keeps_a_readable_prefix_plus_a_stable_hash() -> None:
    key = keys.pool_offline("warehouse", "p" * 300)
    readable = "rbtk:pool-offline:warehouse:" + "p" * (238 - len("rbtk:pool-offline:warehouse:"))
    assert key == readable + "~2ebbcaf3d515f615"
    assert len(key) == MAX_DEDUP_KEY == 255


def test_the_hash_is_a_sha256_prefix_of_the_whole_uncapped_key() -> None:
    full = "rbtk:evidence-fail:warehouse:" + "v" * 400
    digest = hashlib.sha256(full.encode()).hexdigest()[:16]
    assert cap(full) == full[:238] + "~" + digest


def test_two_long_keys_sharing_their_readable_prefix_still_differ() -> None:
    a = keys.postrelease_fail("warehouse", "main", "t" * 300 + "a")
    b = keys.postrelease_fail("warehouse", "main", "t" * 300 + "b")
    assert a != b
    assert a[:238] == b[:238]


def test_a_long_pool_name_pages_and_resolves_with_the_same_capped_key() -> None:
    pool = "pool-" + "x" * 1000
    final = run(
        [
            (at(0), pool_offline(pool, occurred_at=at(0), airgapped=True)),
            (at(15), Tick()),
            (at(16), pool_online(pool, occurred_at=at(16))),
        ]
    )
    page, closed = final.notifications
    assert page.dedup_key == closed.dedup_key == keys.pool_offline("warehouse", pool)
    assert len(page.dedup_key) == 255
    assert page.dedup_key.startswith("rbtk:pool-offline:warehouse:pool-xxx")


def test_long_test_ids_open_one_capped_incident_each_and_resolve_their_own() -> None:
    ids = ["suite/" + "t" * 400 + str(n) for n in range(3)]
    final = run(
        [
            (at(0), release("v1.4.0", occurred_at=at(0))),
            (at(1), completed_run(dict.fromkeys(ids, "failed"), occurred_at=at(1))),
            (at(2), completed_run({ids[1]: "passed"}, occurred_at=at(2))),
        ]
    )
    triggered = [n.dedup_key for n in final.notifications if n.action == "trigger"]
    resolved = [n.dedup_key for n in final.notifications if n.action == "resolve"]
    assert triggered == [keys.postrelease_fail("warehouse", "main", i) for i in ids]
    assert len(set(triggered)) == 3
    assert all(len(k) == 255 for k in triggered)
    assert resolved == [triggered[1]]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=700))
def test_cap_always_fits_is_stable_and_leaves_short_keys_alone(key: str) -> None:
    capped = cap(key)
    assert len(capped) <= MAX_DEDUP_KEY
    assert cap(key) == capped
    assert cap(capped) == capped
    if len(key) <= MAX_DEDUP_KEY:
        assert capped == key
    else:
        assert capped.startswith(key[:238])
        assert len(capped) == MAX_DEDUP_KEY


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=256, max_size=600), st.text(min_size=256, max_size=600))
def test_different_long_keys_cap_to_different_keys(a: str, b: str) -> None:
    if a != b:
        assert cap(a) != cap(b)


def test_a_colon_inside_a_branch_never_makes_two_tests_share_an_incident() -> None:
    assert keys.postrelease_fail("warehouse", "x", "y:z") != keys.postrelease_fail(
        "warehouse", "x:y", "z"
    )


def test_a_colon_inside_a_standard_never_makes_two_amendments_share_an_incident() -> None:
    assert keys.standard_amendment("warehouse", "ISO:26262", "A1") != keys.standard_amendment(
        "warehouse", "ISO", "26262:A1"
    )


def test_a_separator_inside_an_inner_component_is_percent_encoded() -> None:
    assert keys.postrelease_fail("warehouse", "x:y", "z") == (
        "rbtk:postrelease-fail:warehouse:x%3Ay:z"
    )
    assert keys.postrelease_fail("warehouse", "100%", "z") == (
        "rbtk:postrelease-fail:warehouse:100%25:z"
    )


def test_a_key_of_255_characters_shaped_like_a_capped_key_is_hashed_too() -> None:
    long = keys.evidence_fail("warehouse", "v" * 400)
    lookalike_tag = long.removeprefix("rbtk:evidence-fail:warehouse:")
    assert keys.evidence_fail("warehouse", lookalike_tag) != long


_component = st.text(alphabet=st.sampled_from("ab:%~"), max_size=6)


@settings(max_examples=500, deadline=None)
@given(st.tuples(_component, _component), st.tuples(_component, _component))
def test_different_branches_and_tests_always_give_different_keys(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert keys.postrelease_fail("p", *a) != keys.postrelease_fail("p", *b)


@settings(max_examples=500, deadline=None)
@given(st.tuples(_component, _component), st.tuples(_component, _component))
def test_different_standards_and_amendments_always_give_different_keys(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert keys.standard_amendment("p", *a) != keys.standard_amendment("p", *b)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300))
def test_different_release_tags_always_give_different_keys(a: str, b: str) -> None:
    if a != b:
        assert keys.evidence_fail("p", a) != keys.evidence_fail("p", b)
