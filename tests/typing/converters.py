"""A user's script, type-checked by tests/test_typing.py: what the runtime accepts, mypy accepts.

Each value class converts what it is given (a mapping, a list, a set) into its frozen field; its
``__init__`` must be typed by what the converter takes, not by the field it stores.
"""

import datetime as dt
from decimal import Decimal

import loyalty_engine as le
from loyalty_engine import conditions as c

NOW = dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.UTC)
bonus = le.PointsCurrency(eid="bonus")
gold = le.AccruePercent(currency="bonus", percent=Decimal(5), tier_multipliers={"gold": Decimal(2)})
fixed = le.AccrueFixed(currency="bonus", points=Decimal(10), tier_multipliers={"gold": Decimal(2)})
spend = le.AccruePerSpend(
    currency="bonus", points=Decimal(1), per=Decimal(100), tier_multipliers=[("gold", Decimal(2))]
)
catalog = le.Catalog(products={"shoe": ["feet"]}, skus={"S-1": {"socks"}})
program = le.Program(
    currencies=[bonus],
    catalog=catalog,
    promotions=[
        le.Promotion(external_id="gold", benefit=gold, conditions=[c.MemberTier({"gold"})]),
        le.Promotion(external_id="fixed", benefit=fixed, applies_to=c.Product(["shoe"])),
        le.Promotion(external_id="spend", benefit=spend),
        le.Promotion(
            external_id="steps",
            benefit=le.TieredPercent([le.Step(min_total=Decimal(100), percent=Decimal(5))]),
        ),
    ],
)
line = le.Line(
    external_id="l1",
    product="shoe",
    count=2,
    base_price_per_item=le.Money(Decimal("99.90"), "RUB"),
    categories={"sale"},
    custom_fields={"size": "42"},
)
order = le.Order(
    external_id="o1",
    currency="RUB",
    lines=[line],
    promo_codes=[le.PromoCode("SPRING")],
    tags=["first"],
    custom_fields={"channel": "app", "gift": True},
)
member = le.Member(
    profile_id="m1",
    balances={"bonus": le.Balance(Decimal(100), Decimal(100))},
    tier="gold",
    segments=["b2c"],
)
result: le.CalculatedOrder = le.calculate(program, order, member, now=NOW)
total: le.Money = result.final_total_price
