"""Properties of masking (``rulekit._redact``): a registered secret, in any form a server or a
library echoes it in and inside any text, never survives ``redact``; ``redact`` never raises,
whatever it is given; the registry stays bounded without forgetting a running invocation's token.

Each test works on a registry of its own, so the secrets it invents never mask another test's
text nor push the suite's credentials out."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit import _redact
from rulekit._redact import MASK, WITHHELD, holding, masked_cause, redact, register_secret, shown
from rulekit._secret_forms import printable

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def _own_registry() -> Iterator[None]:
    saved = _redact._CREDENTIALS, _redact._TOKENS
    _redact._CREDENTIALS, _redact._TOKENS = _redact._Pool(256), _redact._Pool(64)
    try:
        yield
    finally:
        _redact._CREDENTIALS, _redact._TOKENS = saved


@pytest.fixture
def own_registry() -> Iterator[None]:
    with _own_registry():
        yield


def _lower_hex(encoded: str) -> str:
    """``%2F`` -> ``%2f``: what a server that lower-cases its escapes echoes."""
    parts = encoded.split("%")
    return parts[0] + "".join("%" + part[:2].lower() + part[2:] for part in parts[1:])


def _secret_only_groups(prefix: bytes, secret: bytes, suffix: bytes) -> tuple[str, str]:
    """``secret`` base64-encoded inside a longer text (standard, URL-safe): the whole 4-character
    groups that encode the secret's bytes alone; the partial groups at either end mix in the
    neighbours' bits and do not spell the secret."""
    whole = prefix + secret + suffix
    first = -(-len(prefix) // 3) * 4  # the first group that starts inside the secret
    last = (len(prefix) + len(secret)) // 3 * 4  # the end of the last one that ends inside it
    return (
        base64.b64encode(whole).decode()[first:last],
        base64.urlsafe_b64encode(whole).decode()[first:last],
    )


# Secrets: any text, non-ASCII and lone surrogates (valid JSON, so possible in a token)
# included, but no "*": a "secret" holding the mask could be re-created by masking itself.
ANY = st.characters(exclude_categories=())
secret_text = st.text(ANY.filter(lambda c: c != "*"), min_size=6, max_size=60)
around = st.text(ANY, max_size=40)


@PROPERTY
@given(
    secret=secret_text,
    before=around,
    after=around,
    transient=st.booleans(),
    neighbours=st.tuples(st.binary(max_size=2), st.binary(min_size=0, max_size=5)),
)
def test_a_registered_secret_never_survives_in_any_of_its_forms(
    secret, before, after, transient, neighbours
):
    raw = secret.encode("utf-8", "surrogatepass")
    once = quote(secret, safe="", errors="surrogatepass")
    forms = {
        "raw": secret,
        # (escaped: non-ASCII, quotes, backslashes and controls; walk2 found these unmasked)
        "in JSON": json.dumps(secret)[1:-1],
        "in repr()": repr(secret)[1:-1],
        "%XX": once,
        "%xx": _lower_hex(once),
        "quote()": quote(secret, errors="surrogatepass"),  # keeps "/"
        "%XX twice": quote(once, safe=""),
        "%xx twice": _lower_hex(quote(once, safe="")),
        "base64": base64.b64encode(raw).decode(),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode(),
    }
    for offset in range(3):  # inside a longer base64 text, at each byte alignment
        prefix = neighbours[0].ljust(offset, b"\0")[:offset]
        standard, url_safe = _secret_only_groups(prefix, raw, neighbours[1])
        if len(standard) >= 8:  # (shorter runs are not masked: they would hit ordinary words)
            forms[f"base64 at offset {offset}"] = standard
            forms[f"url-safe base64 at offset {offset}"] = url_safe
    with _own_registry():
        register_secret(secret, transient=transient)
        for name, form in forms.items():
            cleaned = redact(f"{before}{form}{after}")
            assert form not in cleaned and printable(form) not in cleaned, name
            assert MASK in cleaned, name


@PROPERTY
@given(
    st.one_of(
        st.text(ANY),
        st.binary(),
        st.integers(),
        st.floats(),
        st.none(),
        st.lists(st.text(ANY), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(ANY, max_size=5), max_size=3),
    )
)
def test_redact_never_raises_and_always_gives_printable_text(given_value):
    cleaned = redact(given_value)
    assert isinstance(cleaned, str)
    cleaned.encode("utf-8")  # printable on any stream: lone surrogates are escaped
    assert isinstance(shown(given_value), str)


def test_an_object_that_cannot_be_printed_is_named_not_raised(own_registry):
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

        __repr__ = __str__

    assert redact(Unprintable()) == "<unprintable Unprintable>"
    assert shown(Unprintable()) == "<unprintable Unprintable>"
    cause = masked_cause(ValueError(Unprintable()))
    assert "".join(traceback.format_exception(type(cause), cause, None))


def test_masking_that_fails_withholds_the_text_instead_of_showing_it(own_registry, monkeypatch):
    register_secret("some-credential-value")

    def broken(match: object) -> str:
        raise RuntimeError("a bug in masking")

    monkeypatch.setattr(_redact, "printable", broken)
    assert redact("some-credential-value and a lone \udcff") == WITHHELD


def test_a_held_token_outlives_any_number_of_newer_ones_and_the_rest_are_bounded(own_registry):
    with holding("token-of-a-long-invocation"):
        for n in range(100):
            register_secret(f"token-of-a-short-one-{n:03d}", transient=True)
        assert redact("x token-of-a-long-invocation y") == f"x {MASK} y"
    # The 64 most recent stay masked for text produced just after; older ones are let go, so a
    # warm instance's registry does not grow with the invocations it serves.
    assert redact("token-of-a-short-one-099") == MASK
    assert redact("token-of-a-short-one-000") == "token-of-a-short-one-000"


def test_tokens_never_push_a_credential_out(own_registry):
    register_secret("member-account-credential")
    for n in range(1000):
        register_secret(f"result-token-{n:04d}", transient=True)
    assert redact("member-account-credential") == MASK


def test_a_credential_registered_again_becomes_the_most_recent(own_registry):
    register_secret("credential-in-use")
    for n in range(255):
        register_secret(f"credential-{n:03d}")
    register_secret("credential-in-use")  # a warm instance registers its own on every invocation
    register_secret("one-more-credential")
    assert redact("credential-in-use") == MASK
    assert redact("credential-000") == "credential-000"  # the least recently registered went
