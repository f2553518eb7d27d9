"""The plan form. Its feature fields are made from the flag registry, so a new flag appears on
every plan form without code changes."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from services.plans import CURRENCIES, PlanInput
from services.tenants import LOCALES
from web.formatting import format_money, parse_money
from web.forms import WebForm

FEATURE_CHOICES = [SelectChoice("", "Not set (rollout / default)"), SelectChoice("on", "On"),
                   SelectChoice("off", "Off")]


class PlanFormBase(WebForm):
    slug = StringField("Slug", validators=[Length(max=40)], description="Lowercase letters, digits, hyphens. Cannot change later.")
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    currency = SelectField("Currency", choices=[SelectChoice(c, c) for c in CURRENCIES])
    price_monthly = StringField("Monthly price", validators=[DataRequired(), Length(max=30)])
    price_yearly = StringField("Yearly price", validators=[DataRequired(), Length(max=30)])
    max_orders_per_month = IntegerField("Orders a month", validators=[Optional(), NumberRange(1, 10**9)], description="Empty = unlimited")
    max_customers = IntegerField("Customers", validators=[Optional(), NumberRange(1, 10**9)], description="Empty = unlimited")
    max_users = IntegerField("Users", validators=[Optional(), NumberRange(1, 10**9)], description="Empty = unlimited")
    trial_days = IntegerField("Trial days", default=14, validators=[NumberRange(0, 365)])
    is_default = BooleanField("Default plan for sign-up")
    version = HiddenField()

    feature_keys: list[str] = []

    def locale(self) -> str:
        return LOCALES.get(self.currency.data or "USD", ("en_US", ""))[0]

    def to_input(self) -> PlanInput | None:
        """The typed values, or None with errors put on the fields."""
        prices = {}
        for field in (self.price_monthly, self.price_yearly):
            try:
                prices[field.name] = parse_money(field.data or "", self.currency.data, self.locale())
            except ValueError as exc:
                field.errors = [*field.errors, str(exc)]
        if len(prices) < 2:
            return None
        features = {}
        for key in self.feature_keys:
            choice = getattr(self, f"feature_{key}").data
            if choice in ("on", "off"):
                features[key] = choice == "on"
        return PlanInput(name=self.name.data or "", currency=self.currency.data,
                         price_monthly=prices["price_monthly"], price_yearly=prices["price_yearly"],
                         max_orders_per_month=self.max_orders_per_month.data,
                         max_customers=self.max_customers.data, max_users=self.max_users.data,
                         trial_days=self.trial_days.data or 0, features=features,
                         is_default=bool(self.is_default.data))

    def fill_from(self, plan: Any) -> None:
        locale = LOCALES.get(plan.currency, ("en_US", ""))[0]
        for field in ("name", "currency", "max_orders_per_month", "max_customers", "max_users",
                      "trial_days", "is_default", "version"):
            getattr(self, field).data = getattr(plan, field)
        self.slug.data = plan.slug
        self.price_monthly.data = format_money(plan.price_monthly, plan.currency, locale)
        self.price_yearly.data = format_money(plan.price_yearly, plan.currency, locale)
        for key in self.feature_keys:
            value = (plan.features or {}).get(key)
            getattr(self, f"feature_{key}").data = "" if value is None else ("on" if value else "off")


def plan_form(flag_keys: list[str], **kwargs: Any) -> PlanFormBase:
    attrs: dict[str, Any] = {"feature_keys": flag_keys}
    for key in flag_keys:
        attrs[f"feature_{key}"] = SelectField(key, choices=FEATURE_CHOICES, default="")
    form_class = type("PlanForm", (PlanFormBase,), attrs)
    return form_class(**kwargs)
