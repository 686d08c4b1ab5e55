"""The contracts' XML (``altcraft/xml.py``): the seeds' documents, a round trip of every message
shape, and hostile bodies through ``respond``.

XML cannot say what is a list or a number, so ``read_xml`` leans on ``shapes.py``; the round trip
is what proves the shapes and the writer agree. The normalisations docs/wire.md promises (a null
is no element, an empty list item is no item, a character XML 1.0 cannot carry becomes U+FFFD),
and what XML cannot tell apart (an all-digit NUMBER string reads as the integer), are asserted,
not avoided.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from loyalty_engine.altcraft import shapes
from loyalty_engine.altcraft.api import decode, encode, respond
from loyalty_engine.altcraft.codes import Code
from loyalty_engine.altcraft.commit import parse_commit_request
from loyalty_engine.altcraft.preorder import parse_preorder_request
from loyalty_engine.altcraft.shapes import BOOL, FREE, INT, NUMBER, TEXT, Kind, Shape
from loyalty_engine.altcraft.wire import MAX_BYTES
from loyalty_engine.altcraft.xml import read_xml, write_xml
from loyalty_engine.errors import ValidationError
from loyalty_engine.program import load_program
from loyalty_engine.store import MemoryStore, import_document

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "examples" / "api"
SEEDS = ROOT.parent / "shared" / "seeds"
NOW = dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)
PROGRAM = load_program(API / "program.toml")
Json = dict[str, Any]


# --- 1. golden: seeds 003 and 004 -----------------------------------------------------------------


def seed(number: str) -> str:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path.read_text(encoding="utf-8")


def seed_json(text: str, heading: str) -> Json:
    """The JSON example that follows ``heading`` ("Request Example", "Response Example")."""
    document: Json = json.JSONDecoder().raw_decode(text[text.index("{", text.index(heading)) :])[0]
    return document


def seed_xml(text: str) -> tuple[str, str]:
    """The XML request and response examples, each from ``<xml>`` to ``</xml>``."""
    request, response = re.findall(r"^<xml>$.*?^</xml>$", text, re.S | re.M)
    return request, response


def test_seed_003_xml_request_decodes_to_its_json_request() -> None:
    """The seed's XML request is its JSON request but for the line's ``custom_fields: {}``,
    which the seed's XML leaves out; both parse to the same preorder."""
    text = seed("003")
    request = seed_json(text, "Request Example")
    from_xml = decode(seed_xml(text)[0], "xml", "preorder")
    from_json = decode(json.dumps(request), "json", "preorder")

    assert isinstance(from_json, dict)
    assert from_json["data"]["lines"][0].pop("custom_fields") == {}
    assert from_xml == from_json
    assert parse_preorder_request(from_xml) == parse_preorder_request(request)


def test_seed_004_xml_request_decodes_to_its_json_request() -> None:
    """Seed 004's XML request is its JSON request without ``custom_fields`` and ``tags`` (the
    seed's XML omits them); everything else, lists of one included, reads back alike, and both
    meet the same verdict (the seed's totals do not add up: reference §4, E2)."""
    text = seed("004")
    request = seed_json(text, "Request Example")
    from_xml = decode(seed_xml(text)[0], "xml", "preorder_commit")
    from_json = decode(json.dumps(request), "json", "preorder_commit")

    assert isinstance(from_json, dict) and isinstance(from_xml, dict)
    assert from_json["data"].pop("tags") == ["premium", "first_order"]
    assert from_json["data"].pop("custom_fields") == {
        "source": "telegram_bot",
        "campaign": "spring_sale",
    }
    assert from_xml == from_json
    verdicts = []
    for document in (from_xml, request):
        with pytest.raises(ValidationError) as caught:
            parse_commit_request(document)
        verdicts.append(str(caught.value))
    assert verdicts == [verdicts[0]] * 2
    assert verdicts[0].startswith("data.total_price: does not equal")


@pytest.mark.parametrize(("number", "method"), [("003", "preorder"), ("004", "preorder_commit")])
def test_seed_xml_response_round_trips_byte_for_byte(number: str, method: str) -> None:
    """The seed's XML response reads as its JSON response and writes back to the same bytes;
    the JSON response written as XML is those bytes too."""
    text = seed(number)
    xml_response = seed_xml(text)[1]
    json_response = seed_json(text, "Response Example")

    document = read_xml(xml_response, shapes.RESPONSES[method], source="seed")
    assert document == json_response
    assert write_xml(document) == xml_response.encode()
    assert write_xml(json_response) == xml_response.encode()


def shape_paths(shape: Mapping[str, Shape], prefix: str = "") -> set[str]:
    """Every dotted key path of ``shape``; a list is transparent (``lines.count``)."""
    out = set()
    for key, inner in shape.items():
        path = f"{prefix}{key}"
        out.add(path)
        while isinstance(inner, tuple):
            inner = inner[0]
        if isinstance(inner, Mapping):
            out |= shape_paths(inner, f"{path}.")
    return out


def document_paths(value: object, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(value, list):
        for item in value:
            out |= document_paths(item, prefix)
    elif isinstance(value, dict):
        for key, inner in value.items():
            out.add(f"{prefix}{key}")
            out |= document_paths(inner, f"{prefix}{key}.")
    return out


def free_paths(shape: Mapping[str, Shape], prefix: str = "") -> set[str]:
    """The paths of ``FREE`` objects, whose keys are the sender's."""
    out = set()
    for key, inner in shape.items():
        while isinstance(inner, tuple):
            inner = inner[0]
        if inner is FREE:
            out.add(f"{prefix}{key}")
        elif isinstance(inner, Mapping):
            out |= free_paths(inner, f"{prefix}{key}.")
    return out


@pytest.mark.parametrize(
    ("number", "method"),
    [("003", "preorder"), ("004", "preorder_commit")],
)
def test_every_field_of_the_seeds_examples_is_in_the_shapes(number: str, method: str) -> None:
    """Each key the seed's JSON examples use has its place in REQUESTS / RESPONSES (the keys of
    a ``custom_fields`` object excepted: they are the sender's)."""
    text = seed(number)
    for heading, table in (
        ("Request Example", shapes.REQUESTS),
        ("Response Example", shapes.RESPONSES),
    ):
        shape = table[method]
        free = free_paths(shape)
        used = {
            p
            for p in document_paths(seed_json(text, heading))
            if not any(p.startswith(f"{f}.") for f in free)
        }
        assert used - shape_paths(shape) == set(), heading


def test_every_response_field_seed_004_documents_is_in_the_shape() -> None:
    """The "Response Parameters" tables of seed 004 (``status`` … ``pool.pool_id`` …
    ``redeem_points``): each named field is a path of the preorder_commit response shape."""
    text = seed("004")
    tables = text[text.index("Response Parameters") : text.index("Last updated")]
    documented = set(
        re.findall(r"^([a-z_]+(?:\.[a-z_]+)?)(?:string|integer|int|array|object)", tables, re.M)
    )
    ours = shape_paths(shapes.RESPONSES["preorder_commit"])

    assert {"status", "processing_target", "pool.pool_id", "points_info.amount"} <= documented
    missing = {d for d in documented if not any(p == d or p.endswith(f".{d}") for p in ours)}
    assert missing == set()


# --- 2. the round trip of every shape -------------------------------------------------------------

AWKWARD = "<&>\"' \t\n\r]]>"
NOT_XML = "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff"  # XML 1.0 cannot carry these: U+FFFD
BAD_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
DIGITS = re.compile(r"-?[0-9]{1,19}\Z")
XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")  # the names the writer uses as tags

characters = st.characters(exclude_categories=["Cs"]) | st.sampled_from(AWKWARD + NOT_XML)
texts = st.text(characters, max_size=12)
ints = st.integers(-(10**19) + 1, 10**19 - 1) | st.sampled_from([0, -1, 2**63, -(2**63) - 1])
numbers = (
    st.integers(-(10**12), 10**12)
    | st.from_regex(r"-?[0-9]{1,12}\.[0-9]{1,6}", fullmatch=True)
    | st.from_regex(r"-?[0-9]{1,19}", fullmatch=True)
)
# keys of a FREE object: XML names, and keys that are not (written <item key="...">), among
# them words by Python's \w that are no XML names ("a²") and keys with a newline or a tab
free_keys = (
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True)
    | st.text(characters, max_size=8)
    | st.sampled_from(["a²", "aª", "aµ", "aⅰ", "a½", "a\nb", "a\tb", " a\n"])
)


def free_objects() -> st.SearchStrategy[dict[str, str]]:
    """Keys that differ only in what U+FFFD replaces would collide once read: keep the first."""

    def distinct(raw: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in raw.items():
            if BAD_CHARS.sub("\ufffd", key) not in {BAD_CHARS.sub("\ufffd", k) for k in out}:
                out[key] = value
        return out

    return st.dictionaries(free_keys, texts, max_size=3).map(distinct)


KINDS: dict[Kind, st.SearchStrategy[Any]] = {
    TEXT: texts,
    INT: ints,
    BOOL: st.booleans(),
    NUMBER: numbers,
    FREE: free_objects(),
}


def values(shape: Shape) -> st.SearchStrategy[Any]:
    if isinstance(shape, Mapping):
        return objects(shape)
    if isinstance(shape, tuple):
        return st.lists(values(shape[0]), max_size=3)
    return KINDS[shape]


def objects(shape: Mapping[str, Shape]) -> st.SearchStrategy[dict[str, Any]]:
    """A random subset of the keys; a present value (not an object or list) may be null."""
    optional = {
        key: values(inner) if isinstance(inner, Mapping | tuple) else st.none() | values(inner)
        for key, inner in shape.items()
    }
    return st.fixed_dictionaries({}, optional=optional)


def expected(value: Any, shape: Shape) -> Any:
    """What XML gives back for ``value``: the documented normalisations, nothing else."""
    if isinstance(shape, Mapping):
        return {k: expected(v, shape[k]) for k, v in value.items() if v is not None}
    if isinstance(shape, tuple):  # an item with neither text nor elements is no item
        return [expected(v, shape[0]) for v in value if v not in (None, "", {})]
    if shape is FREE:
        return {BAD_CHARS.sub("\ufffd", k): BAD_CHARS.sub("\ufffd", v) for k, v in value.items()}
    if shape is NUMBER and isinstance(value, str) and DIGITS.match(value):
        return int(value)  # "100" and 100 are the same NUMBER to XML
    if isinstance(value, str):
        return BAD_CHARS.sub("\ufffd", value)
    return value


def label(value: Any, shape: Shape) -> None:
    """``event`` each kind of case generated, for ``--hypothesis-show-statistics``."""
    if isinstance(shape, Mapping):
        for key, inner in value.items():
            if inner is None:
                event("null (no element)")
            else:
                label(inner, shape[key])
    elif isinstance(shape, tuple):
        event("list: empty" if not value else "list: 2+ items" if len(value) > 1 else "list: 1")
        if value and isinstance(shape[0], Mapping):
            event("list of objects")
            if any(isinstance(v, tuple) for v in shape[0].values()):
                event("nested list (a list in a list item)")
        for item in value:
            if item in ("", {}):
                event("empty list item (no item)")
            label(item, shape[0])
    elif shape is FREE:
        event("FREE: empty" if not value else "FREE: keys")
        if any(not XML_NAME.match(k) for k in value):
            event("FREE: a key that is no XML name (<item key>)")
        if any(re.search(r"[\n\t]", k) or (re.match(r"\w+\Z", k) and not k.isascii())
               for k in value):  # fmt: skip
            event("FREE: a key with a newline, a tab or a non-ASCII word")
    elif shape is INT:
        event(
            "INT: beyond int64"
            if abs(value) >= 2**63
            else "INT: negative"
            if value < 0
            else "INT: 0..2^63"
        )
    elif shape is NUMBER:
        event(
            "NUMBER: int"
            if isinstance(value, int)
            else "NUMBER: digit string (reads as int)"
            if DIGITS.match(value)
            else "NUMBER: decimal string"
        )
    elif shape is BOOL:
        event("BOOL")
    elif isinstance(value, str):
        event("TEXT")
        if set(value) & set("<&>\"'"):
            event("TEXT: markup characters")
        if value != value.strip():
            event("TEXT: edge whitespace")
        if BAD_CHARS.search(value):
            event("TEXT: not XML 1.0 (U+FFFD)")
        if not value.isascii():
            event("TEXT: non-ASCII")


SHAPES: dict[str, Mapping[str, Shape]] = {
    **{f"request-{m}": s for m, s in shapes.REQUESTS.items()},
    **{f"response-{m}": s for m, s in shapes.RESPONSES.items()},
    "error": shapes.ERROR,
}
DOCUMENTS = {name: objects(shape) for name, shape in SHAPES.items()}


@pytest.mark.parametrize("name", SHAPES)
@given(data=st.data())
def test_every_shape_round_trips_through_xml_and_json(name: str, data: st.DataObject) -> None:
    """A document built from a message's shape reads back from its XML as the documented
    normalisation of itself, and from its JSON unchanged."""
    shape = SHAPES[name]
    document = data.draw(DOCUMENTS[name], label=name)
    event(f"shape: {name}")
    label(document, shape)

    assert read_xml(write_xml(document), shape, source="doc") == expected(document, shape)
    assert json.loads(encode(document, "json")) == document


@pytest.mark.parametrize("value", [10**19, -(10**19), 10**40])
def test_an_int_beyond_19_digits_is_read_as_text(value: int) -> None:
    """XML reads an integer of at most 19 digits; a longer one stays the text it was, for the
    method's reader to refuse (``must be an integer``, error 1), as JSON's is refused."""
    assert read_xml(write_xml({"limit": value}), shapes.REQUESTS["transactions"], source="doc") == {
        "limit": str(value)
    }


@pytest.mark.parametrize("text", ["٣", "١٠٠", "３"])
def test_non_ascii_digits_are_text_not_an_integer(text: str) -> None:
    """Only ASCII digits make an integer: other digits stay text, as JSON would have them."""
    assert read_xml(write_xml({"limit": text}), shapes.REQUESTS["transactions"], source="doc") == {
        "limit": text
    }


def test_a_lone_surrogate_in_text_is_written_as_u_fffd() -> None:
    """A string Python can hold but UTF-8 cannot is written as U+FFFD, not an exception."""
    assert write_xml({"email": "a\ud800b"}) == "<xml>\n<email>a\ufffdb</email>\n</xml>".encode()


@pytest.mark.parametrize("key", ["a\nb", "a\tb"])
def test_a_free_key_with_a_newline_or_tab_round_trips(key: str) -> None:
    """``custom_fields`` keys are the sender's: any text, a newline included, comes back."""
    shape = shapes.REQUESTS["accrue_points"]
    assert read_xml(write_xml({"external_data": {key: "v"}}), shape, source="doc") == {
        "external_data": {key: "v"}
    }


@pytest.mark.parametrize("key", ["a²", "aª", "aµ", "aⅰ", "a½"])
def test_a_free_key_that_is_a_python_word_but_no_xml_name_round_trips(key: str) -> None:
    """A key that is not an XML name must be written ``<item key="...">``."""
    shape = shapes.REQUESTS["accrue_points"]
    assert read_xml(write_xml({"external_data": {key: "v"}}), shape, source="doc") == {
        "external_data": {key: "v"}
    }


# --- 3. hostile XML through respond ---------------------------------------------------------------

BALANCE = (API / "balance.json").read_text(encoding="utf-8")
TOKEN = "<token>abcdefghijklmnqrstuvwxyz</token><loyalty_program_id>1</loyalty_program_id>"
LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE: dict[str, tuple[bytes, str]] = {
    "billion-laughs": (
        f'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY l0 "lol">{LAUGHS}]>'
        f"<xml>{TOKEN}<email>&l9;</email></xml>".encode(),
        "refused: DTDs and entities are not accepted",
    ),
    "xxe": (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<xml><email>&x;</email></xml>",
        "refused: DTDs and entities are not accepted",
    ),
    "xxe-parameter-entity": (
        b'<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><xml/>',
        "refused: DTDs and entities are not accepted",
    ),
    "dtd-alone": (b"<!DOCTYPE xml><xml/>", "refused: DTDs and entities are not accepted"),
    "dtd-internal-subset": (
        b"<!DOCTYPE xml [<!ELEMENT xml ANY>]><xml/>",
        "refused: DTDs and entities are not accepted",
    ),
    "external-dtd": (
        b'<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml/>',
        "refused: DTDs and entities are not accepted",
    ),
    "nested-10000": (
        b"<xml>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</xml>",
        "nested deeper than 64",
    ),
    "nested-65": (b"<xml>" + b"<a>" * 65 + b"</a>" * 65 + b"</xml>", "nested deeper than 64"),
    "truncated": (f"<xml>{TOKEN}<email>example@exa".encode(), "malformed XML at line 1"),
    "truncated-tag": (b"<xml><email", "malformed XML at line 1"),
    "unclosed-root": (b"<xml>", "malformed XML at line 1"),
    "not-xml": (b"balance, please", "malformed XML at line 1 column 1"),
    "json": (BALANCE.encode(), "malformed XML at line 1 column 1"),
    "empty": (b"", "malformed XML at line 1 column 1"),
    "two-roots": (b"<xml/><xml/>", "malformed XML at line 1"),
    "wrong-root": (b"<root><email>a@b.c</email></root>", "the root element must be <xml>"),
    "namespaced-root": (b'<x:xml xmlns:x="urn:x"/>', "the root element must be <xml>"),
    "invalid-utf-8": (b"<xml><email>\xff\xfe\xc3</email></xml>", "malformed XML at line 1"),
    "utf-16-declared-utf-8-sent": (
        b'<?xml version="1.0" encoding="UTF-16"?><xml/>',
        "malformed XML at line 1",
    ),
    "ascii-declared-utf-8-sent": (
        b'<?xml version="1.0" encoding="US-ASCII"?><xml><email>\xc3\xa9</email></xml>',
        "malformed XML at line 1",
    ),
    "nul-byte": (b"<xml>\x00</xml>", "malformed XML at line 1"),
    "nul-reference": (b"<xml><email>&#0;</email></xml>", "malformed XML at line 1"),
    "surrogate-reference": (b"<xml><email>&#xD800;</email></xml>", "malformed XML at line 1"),
    "undefined-entity": (b"<xml><email>&nope;</email></xml>", "malformed XML at line 1"),
    "int-abc": (
        b"<xml><loyalty_program_id>abc</loyalty_program_id>"
        b"<email>example@example.com</email></xml>",
        "loyalty_program_id: must be an integer",
    ),
    "int-twice": (
        b"<xml><loyalty_program_id>1</loyalty_program_id>"
        b"<loyalty_program_id>1</loyalty_program_id></xml>",
        "loyalty_program_id: must appear once",
    ),
    "int-with-elements": (
        b"<xml><loyalty_program_id><a>1</a></loyalty_program_id></xml>",
        "loyalty_program_id: must be a value, not nested elements",
    ),
    "int-5000-digits": (
        b"<xml><loyalty_program_id>" + b"9" * 5000 + b"</loyalty_program_id></xml>",
        "loyalty_program_id: must be an integer",
    ),
}


@pytest.fixture
def store() -> MemoryStore:
    """The examples' member (20999 points) in memory."""
    made = MemoryStore()
    import_document(made, PROGRAM, json.loads((API / "import.json").read_text()), now=NOW)
    return made


def refused(store: MemoryStore, body: bytes | str) -> Json:
    """``balance`` in XML answers within 2 s an error body that reads back, shows no traceback
    and has the HTTP status of its code; the decoded body."""
    started = time.perf_counter()
    reply = respond("balance", body, "xml", store=store, program=PROGRAM, now=NOW)
    assert time.perf_counter() - started < 2
    assert (reply.content_type, reply.status) == ("application/xml", Code(reply.code).http)
    assert b"Traceback" not in reply.body and b'File "' not in reply.body
    document = read_xml(reply.body, shapes.ERROR, source="reply")
    assert document["error"] == reply.code != 0
    assert isinstance(document["error_text"], str) and document["error_text"]
    return document


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_xml_is_an_invalid_request(store: MemoryStore, case: str) -> None:
    """Each hostile body answers error 1 (HTTP 400) with the problem under ``errors``, fast,
    and nothing expands, is fetched or is written."""
    body, reason = HOSTILE[case]
    document = refused(store, body)

    assert document["error"] == 1
    assert reason in document["error_text"]
    problem = document["errors"][0]  # then, for a readable body, every other problem too
    assert reason.split(": ")[-1] in problem["reason"]
    assert "root:" not in document["error_text"]  # /etc/passwd stayed where it was
    reply = respond("balance", BALANCE, "json", store=store, program=PROGRAM, now=NOW)
    assert json.loads(reply.body)["data"]["total_balance"] == "20999"


def test_a_wrong_type_names_its_path_and_the_value_as_sent(store: MemoryStore) -> None:
    """An INT element holding ``abc`` lists path ``loyalty_program_id`` and the text sent."""
    document = refused(store, HOSTILE["int-abc"][0])
    assert document["errors"] == [
        {"path": "loyalty_program_id", "reason": "must be an integer", "value": "'abc'"}
    ]


def test_a_10_mib_body_is_too_large(store: MemoryStore) -> None:
    """One byte over 10 MiB is error 12 (HTTP 413), before it is parsed."""
    body = b"<xml><email>" + b"a" * MAX_BYTES + b"</email></xml>"
    assert refused(store, body)["error"] == 12
    assert Code.BODY_TOO_LARGE.http == 413
    padded = f"<xml>{TOKEN}<email>example@example.com</email></xml>".encode()
    fits = padded + b" " * (MAX_BYTES - len(padded))
    assert respond("balance", fits, "xml", store=store, program=PROGRAM, now=NOW).code == 0


@pytest.mark.parametrize(
    "body",
    [
        f'<?xml version="1.0" encoding="ISO-8859-1"?><xml>{TOKEN}'
        "<email>example@example.com</email></xml>".encode("latin-1"),
        f'<?xml version="1.0" encoding="UTF-16"?><xml>{TOKEN}'
        "<email>example@example.com</email></xml>".encode("utf-16"),
        f"\ufeff<xml>{TOKEN}<email>example@example.com</email></xml>".encode(),
        f"<xml>{TOKEN}<email><![CDATA[example@example.com]]></email></xml>".encode(),
    ],
    ids=["latin-1", "utf-16", "bom", "cdata"],
)
def test_a_declared_encoding_a_bom_or_cdata_is_read(store: MemoryStore, body: bytes) -> None:
    """Well-formed XML in another declared encoding, or with a BOM or CDATA, is understood."""
    reply = respond("balance", body, "xml", store=store, program=PROGRAM, now=NOW)
    assert reply.code == 0, reply.body


@pytest.mark.parametrize("encoding", ["bogus", "rot13", "UTF-7", "idna", "hex"])
def test_an_unusable_declared_encoding_is_an_invalid_request(
    store: MemoryStore, encoding: str
) -> None:
    """``encoding="bogus"`` in the declaration is malformed input: error 1, not an exception."""
    body = f'<?xml version="1.0" encoding="{encoding}"?><xml/>'.encode()
    assert refused(store, body)["error"] == 1


def test_a_str_body_with_a_lone_surrogate_is_an_invalid_request(store: MemoryStore) -> None:
    """``respond`` takes ``bytes | str``; a str that is not Unicode is refused, as JSON does."""
    assert refused(store, "<xml><email>\ud800</email></xml>")["error"] == 1


def test_many_repeated_unknown_elements_read_in_linear_time() -> None:
    """40,000 repeats of an unknown element read about as fast as 40,000 items of a list the
    shape knows (linear either way); a body under 10 MiB must not hold a worker for long."""
    count = 40_000
    shape = shapes.REQUESTS["preorder"]
    known = b"<xml><data>" + b"<tags>x</tags>" * count + b"</data></xml>"
    unknown = b"<xml><data>" + b"<zz>x</zz>" * count + b"</data></xml>"

    started = time.perf_counter()
    read_xml(known, shape, source="body")
    listed = time.perf_counter() - started
    started = time.perf_counter()
    read_xml(unknown, shape, source="body")
    repeated = time.perf_counter() - started
    assert repeated < 5 * listed + 0.5


def test_an_answer_echoing_an_odd_custom_field_key_is_well_formed(store: MemoryStore) -> None:
    """Seed 003's request in XML with a line custom field keyed ``a²``: the answer parses."""
    request = json.loads((ROOT / "examples" / "seed_003" / "request.json").read_text())
    request["data"]["lines"][0]["custom_fields"] = {"a²": "x"}
    body = encode(request, "xml").replace("<a²>x</a²>".encode(), '<item key="a²">x</item>'.encode())
    assert '<item key="a²">'.encode() in body

    reply = respond("preorder", body, "xml", store=store, program=PROGRAM, now=NOW)
    assert reply.code == 0
    answer: Json = read_xml(reply.body, shapes.RESPONSES["preorder"], source="reply")
    assert answer["data"]["order"]["lines"][0]["custom_fields"] == {"a²": "x"}
