"""The domain side of payload encryption: canonical associated data and the value types."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.cipher import AadContext, CipherError, WrappedDataKey
from domain.shared.errors import DomainError

ROW = uuid.UUID("0b8a5e0e-1f7c-4a4e-9a55-3c1d2b7f9e10")


def test_renders_canonically():
    ctx = AadContext.of("notes", ROW, "body")
    assert ctx.render("a1b2c3d4e5f60718") == f"v1|table=notes|row={ROW}|field=body|key=a1b2c3d4e5f60718".encode()


def test_extras_are_sorted_so_the_order_of_naming_them_does_not_matter():
    one = AadContext.of("messages", ROW, "body", sender="s-1", conversation="c-1")
    two = AadContext.of("messages", ROW, "body", conversation="c-1", sender="s-1")
    assert one == two
    assert (
        one.render("k")
        == two.render("k")
        == f"v1|table=messages|row={ROW}|field=body|key=k|conversation=c-1|sender=s-1".encode()
    )


@given(row=st.one_of(st.uuids(), st.text(min_size=1, max_size=40)))
def test_for_row_is_the_context_built_for_that_row(row: uuid.UUID | str):
    template = AadContext.of("messages", "-", "body", conversation="c|1", sender="s=1")
    built = AadContext.of("messages", row, "body", conversation="c|1", sender="s=1")
    clone = template.for_row(row)
    assert clone == built
    assert hash(clone) == hash(built)
    assert clone.render("k1") == built.render("k1")
    assert template.render("k1") != built.render("k1") or str(row) == "-"


def test_for_row_refuses_an_empty_row():
    with pytest.raises(ValueError, match="row id"):
        AadContext.of("notes", ROW, "body").for_row("")


def test_every_part_changes_the_rendering():
    base = AadContext.of("notes", ROW, "body", author="a")
    variants = [
        AadContext.of("plans", ROW, "body", author="a"),
        AadContext.of("notes", uuid.uuid4(), "body", author="a"),
        AadContext.of("notes", ROW, "summary", author="a"),
        AadContext.of("notes", ROW, "body", author="b"),
        AadContext.of("notes", ROW, "body"),
        AadContext.of("notes", ROW, "body", author="a", sender="a"),
    ]
    renderings = {ctx.render("k") for ctx in variants}
    assert len(renderings) == len(variants)
    assert base.render("k") not in renderings
    assert base.render("k") != base.render("k2")


def test_values_cannot_forge_separators():
    forged = AadContext("notes", "x|field=body", "summary")
    honest = AadContext("notes", "x", "body")
    assert b"x|field=body|" not in forged.render("k")
    assert forged.render("k") != honest.render("k")


_values = st.text(min_size=1, max_size=12)


@given(_values, _values, _values, _values)
def test_rendering_is_injective(row1, value1, row2, value2):
    a = AadContext.of("t", row1, "f", sender=value1)
    b = AadContext.of("t", row2, "f", sender=value2)
    assert (a.render("k") == b.render("k")) == ((row1, value1) == (row2, value2))


@pytest.mark.parametrize(
    "build",
    [
        lambda: AadContext.of("Notes", ROW, "body"),
        lambda: AadContext.of("notes", ROW, "bo|dy"),
        lambda: AadContext.of("notes", "", "body"),
        lambda: AadContext.of("notes", ROW, "body", key="forged"),
        lambda: AadContext.of("notes", ROW, "body", row="forged"),
        lambda: AadContext("notes", ROW, "body", (("a", "1"), ("a", "2"))),
        lambda: AadContext("notes", ROW, "body", (("bad name", "1"),)),
    ],
)
def test_bad_contexts_are_refused(build):
    with pytest.raises(ValueError):
        build()


@pytest.mark.parametrize("key_id", ["", "a|b", "a=b", "x" * 65])
def test_bad_key_ids_are_refused(key_id):
    with pytest.raises(ValueError):
        AadContext.of("notes", ROW, "body").render(key_id)


def test_wrapped_data_key_hides_its_bytes_and_normalises_driver_buffers():
    secretish = bytes(range(72))
    key = WrappedDataKey("kek-1", memoryview(secretish))  # type: ignore[arg-type]
    assert type(key.wrapped) is bytes and key.wrapped == secretish
    assert key == WrappedDataKey("kek-1", secretish, 1)
    assert secretish.hex() not in repr(key) and repr(secretish) not in repr(key)
    with pytest.raises(ValueError):
        WrappedDataKey("", secretish)


def test_cipher_error_is_a_domain_error_with_a_stable_code():
    err = CipherError("nope", reason="tampered")
    assert isinstance(err, DomainError)
    assert err.code == "decryption_failed" and err.reason == "tampered" and err.detail == "nope"
