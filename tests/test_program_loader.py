"""Programs load from TOML, JSON and dicts; every error is reported at once, with its path."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import loyalty_engine as le
from loyalty_engine import conditions as c

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHOWCASE = EXAMPLES / "showcase" / "program.toml"


def messages(error: le.ValidationError) -> list[str]:
    errors = error.errors if isinstance(error, le.ValidationErrors) else (error,)
    return [str(e) for e in errors]


def test_showcase_uses_every_kind() -> None:
    """The showcase program names every benefit kind and every condition kind but a few."""
    program = le.load_program(SHOWCASE)
    kinds = {type(p.benefit) for p in program.promotions}
    assert kinds == set(le.program.BENEFITS.values())
    assert {g.choice for g in program.groups} == {
        "best_for_customer",
        "priority",
        "best_for_merchant",
        "stack",
    }


@pytest.mark.parametrize("name", ["seed_003", "seed_004_lines", "showcase"])
def test_round_trip(name: str) -> None:
    """program_from_dict(program.to_dict()) gives the same program back."""
    program = le.load_program(EXAMPLES / name / "program.toml")
    assert le.program_from_dict(program.to_dict()) == program
    assert le.program_from_dict(json.loads(json.dumps(program.to_dict()))) == program


def test_json_and_toml_load_the_same_program(tmp_path: Path) -> None:
    """A JSON document equivalent to the TOML file loads to an equal Program."""
    program = le.load_program(SHOWCASE)
    file = tmp_path / "program.json"
    file.write_text(json.dumps(program.to_dict()))
    assert le.load_program(file) == program


def test_every_condition_kind_loads() -> None:
    """Each condition kind reads its documented fields."""
    doc = {
        "currencies": [{"eid": "b"}],
        "promotions": [
            {
                "external_id": "p",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": "5"},
                "conditions": [
                    {"kind": "endpoint", "values": ["site"]},
                    {"kind": "region", "values": ["msk"]},
                    {"kind": "order_tag", "values": ["t"]},
                    {"kind": "tier", "values": ["gold"]},
                    {"kind": "segment", "values": ["s"]},
                    {"kind": "member_tag", "values": ["m"]},
                    {"kind": "promo_code", "codes": ["A"], "pool_id": 4},
                    {"kind": "line_count", "min": 1, "max": 5},
                    {"kind": "item_count", "min": 2},
                    {"kind": "order_total", "min": "100", "basis": "current"},
                    {
                        "kind": "dates",
                        "start": "2026-01-01T00:00:00Z",
                        "end": "2027-01-01T00:00:00+03:00",
                    },
                    {"kind": "weekday", "days": [6, 7]},
                    {"kind": "hour", "start": 22, "end": 6},
                    {"kind": "not", "of": {"kind": "product", "values": ["x"]}},
                    {
                        "kind": "any",
                        "of": [
                            {"kind": "sku", "values": ["s"]},
                            {"kind": "category", "values": ["c"]},
                        ],
                    },
                    {
                        "kind": "all",
                        "of": [
                            {"kind": "custom_field", "field": "f", "values": ["1"], "scope": "line"}
                        ],
                    },
                ],
            }
        ],
    }
    (promotion,) = le.program_from_dict(doc).promotions
    assert [type(cond) for cond in promotion.conditions] == [
        c.Endpoint,
        c.Region,
        c.OrderTag,
        c.MemberTier,
        c.MemberSegment,
        c.MemberTag,
        c.PromoCodeEntered,
        c.LineCount,
        c.ItemCount,
        c.OrderTotal,
        c.Dates,
        c.Weekday,
        c.Hour,
        c.Not,
        c.AnyOf,
        c.All,
    ]
    assert promotion.conditions[9] == c.OrderTotal(min=Decimal(100), basis="current")


def test_all_errors_are_reported_at_once_with_paths() -> None:
    """Nine problems in one document come back together, each naming its path."""
    bad = {
        "currencies": [{"eid": "b", "iid": True}],
        "promotions": [
            {
                "external_id": "x",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": "120"},
            },
            {
                "external_id": "y",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": 10.5},
                "foo": 1,
            },
            {"type": "nope"},
            {
                "external_id": "z",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": "5"},
                "conditions": [{"kind": "weekday", "days": [9]}, {"kind": "bogus"}],
                "start": "2026-01-01T00:00:00",
            },
        ],
    }
    with pytest.raises(le.ValidationErrors) as caught:
        le.program_from_dict(bad)
    found = messages(caught.value)
    assert [m.split(":")[0] for m in found] == [
        "currencies[0].iid",
        "promotions[0].benefit.percent",
        "promotions[1].benefit.percent",
        "promotions[1].foo",
        "promotions[2].type",
        "promotions[2].external_id",
        "promotions[3].conditions[0].days",
        "promotions[3].conditions[1].kind",
        "promotions[3].start",
    ]
    assert found[1] == ("promotions[0].benefit.percent: must be a decimal in [0..100] (got 120)")
    assert "write decimals as strings" in found[2]


def test_kind_is_a_key_of_conditions_and_benefits_only() -> None:
    """``kind`` names a condition's or a benefit's class; anywhere else it is an unknown key,
    not a key read and dropped."""
    bad = {
        "settings": {"kind": "x"},
        "currencies": [{"eid": "b", "kind": "x"}],
        "groups": [{"id": "g", "kind": "x"}],
        "promotions": [
            {"external_id": "p", "type": "discount", "kind": "x", "benefit": {"percent": "5"}},
        ],
    }
    with pytest.raises(le.ValidationErrors) as caught:
        le.program_from_dict(bad)
    assert messages(caught.value) == [
        "settings.kind: unknown key (got 'x')",
        "currencies[0].kind: unknown key (got 'x')",
        "groups[0].kind: unknown key (got 'x')",
        "promotions[0].benefit.kind: must be one of ['amount_per_item', 'amount_per_order', "
        "'buy_x_get_y', 'fixed_price', 'percent', 'tiered_percent'] (missing)",
        "promotions[0].kind: unknown key (got 'x')",
    ]


def test_cross_references_are_checked() -> None:
    """A promotion naming a missing currency or group is reported with its path."""
    doc = {
        "promotions": [
            {
                "external_id": "a",
                "type": "accrue_points",
                "group": "nope",
                "benefit": {"kind": "fixed", "currency": "ghost", "points": "5"},
            },
        ]
    }
    with pytest.raises(le.ValidationErrors) as caught:
        le.program_from_dict(doc)
    assert messages(caught.value) == [
        "promotions[0].group: no such group (got 'nope')",
        "promotions[0].benefit.currency: no such currency (got 'ghost')",
    ]


def test_applies_to_accepts_only_line_conditions() -> None:
    """An order-level kind in applies_to cannot select lines."""
    doc = {
        "promotions": [
            {
                "external_id": "a",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": "5"},
                "applies_to": {"kind": "endpoint", "values": ["site"]},
            }
        ]
    }
    with pytest.raises(le.ValidationError, match=r"promotions\[0\]\.applies_to"):
        le.program_from_dict(doc)


def test_custom_choice_needs_to_be_declared() -> None:
    """A choice that is not built in is accepted only when the caller names it."""
    doc = {"settings": {"choice": "margin_first"}}
    with pytest.raises(le.ValidationError, match=r"settings\.choice: unknown choice"):
        le.program_from_dict(doc)
    assert le.program_from_dict(doc, choices=["margin_first"]).settings.choice == "margin_first"


def test_deep_condition_nesting_is_refused() -> None:
    """Conditions nested past the limit are an error, not a recursion crash."""
    cond: dict[str, object] = {"kind": "region", "values": ["r"]}
    for _ in range(100):
        cond = {"kind": "not", "of": cond}
    doc = {
        "promotions": [
            {
                "external_id": "a",
                "type": "discount",
                "benefit": {"kind": "percent", "percent": "5"},
                "conditions": [cond],
            }
        ]
    }
    with pytest.raises(le.ValidationError, match="nested deeper than 32"):
        le.program_from_dict(doc)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("p.toml", "[[promotions]\n", "p.toml: malformed"),
        ("p.json", "{", "p.json: malformed"),
        ("p.json", "[" * 100_000 + "]" * 100_000, "p.json: nested deeper than 64"),
        ("p.json", '{"settings": {"max_discount_percent": NaN}}', "p.json: not a JSON number"),
        ("p.yaml", "a: 1", "p.yaml: a program file must be .toml or .json"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: str, expected: str) -> None:
    """Malformed, hostile or unknown files are a ValidationError naming the file."""
    file = tmp_path / name
    file.write_text(content)
    with pytest.raises(le.ValidationError) as caught:
        le.load_program(file)
    assert str(caught.value).startswith(expected)


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    """A program file above 5 MB is refused without being parsed."""
    file = tmp_path / "big.toml"
    file.write_text("# " + "x" * (5 * 1024 * 1024))
    with pytest.raises(le.ValidationError, match="larger than"):
        le.load_program(file)


def test_the_rules_other_engines_bring_load_and_round_trip() -> None:
    """remainder, percent_rounding, buy_x_get_y repeat and buy = 0, zero benefits: by key."""
    doc = {
        "settings": {"remainder": "last", "percent_rounding": "order"},
        "promotions": [
            {"external_id": "once", "type": "discount",
             "benefit": {"kind": "buy_x_get_y", "buy": 2, "get": 1, "repeat": False}},
            {"external_id": "cheapest", "type": "discount",
             "benefit": {"kind": "buy_x_get_y", "buy": 0, "get": 2}},
            {"external_id": "parked", "type": "discount",
             "benefit": {"kind": "percent", "percent": "0"}},
        ],
    }  # fmt: skip
    program = le.program_from_dict(doc)
    assert (program.settings.remainder, program.settings.percent_rounding) == ("last", "order")
    assert [p.benefit for p in program.promotions] == [
        le.BuyXGetY(buy=2, get=1, repeat=False),
        le.BuyXGetY(buy=0, get=2),
        le.PercentOff(Decimal(0)),
    ]
    assert le.program_from_dict(program.to_dict()) == program
    with pytest.raises(le.ValidationError, match=r"settings\.remainder: must be one of"):
        le.program_from_dict({"settings": {"remainder": "middle"}})
