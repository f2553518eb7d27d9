"""WTForms classes of the tenant back-office."""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from wtforms import (DateField, EmailField, FieldList, Form, FormField, HiddenField, IntegerField,
                     PasswordField, SearchField, SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from models.tenant import CHANNELS, PAYMENT_METHODS, PaymentStatus
from services.customer_queries import SORTS as CUSTOMER_SORTS
from services.order_queries import SORTS
from services.orders import MAX_ITEMS, MAX_QUANTITY, LineInput
from web.formatting import code_label, parse_money
from web.forms import WebForm


class SignInForm(WebForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


# --- orders ---------------------------------------------------------------------------------

def _labelled(values: tuple[str, ...], blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(v, code_label(v)) for v in values]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


class OrderFilterForm(Form):
    """The list's GET form. Only renders the controls: services.order_queries validates values
    (one place), so choices here are not enforced."""

    q = SearchField("Search", validators=[Length(max=200)],
                    render_kw={"placeholder": "#1042, name or email", "maxlength": 200,
                               "autocomplete": "off"})
    status = SelectField("Payment", choices=_labelled(tuple(s.value for s in PaymentStatus), "Any status"),
                         validate_choice=False)
    method = SelectField("Method", choices=_labelled(PAYMENT_METHODS, "Any method"), validate_choice=False)
    channel = SelectField("Channel", choices=_labelled(CHANNELS, "Any channel"), validate_choice=False)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    sort = SelectField("Sort", choices=[SelectChoice(k, v[0]) for k, v in SORTS.items()], validate_choice=False)
    customer = HiddenField()


class WholeNumberField(IntegerField):
    """An integer typed as plain digits. int() alone would also read "1_000" and other scripts'
    digits, which nobody means as a quantity."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = valuelist[0] if valuelist else None
        if isinstance(raw, str) and raw.strip() and not re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


class LineItemForm(Form):
    name = StringField("Item", validators=[Length(max=200)], render_kw={"maxlength": 200})
    quantity = WholeNumberField("Qty", default=1,
                            validators=[Optional(), NumberRange(1, MAX_QUANTITY, "Between 1 and %(max)s.")],
                            render_kw={"min": 1, "max": MAX_QUANTITY, "inputmode": "numeric"})
    unit_price = StringField("Unit price", validators=[Length(max=30)],
                             render_kw={"inputmode": "decimal", "maxlength": 30})

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and not (self.unit_price.data or "").strip()


class OrderForm(WebForm):
    customer_id = SelectField("Customer", choices=[SelectChoice("", "— No customer / new customer below —")],
                              validate_choice=False)
    new_customer_name = StringField("New customer name", validators=[Length(max=120)])
    new_customer_email = StringField("Email", validators=[Length(max=254)], render_kw={"type": "email"})
    new_customer_phone = StringField("Phone", validators=[Length(max=32)], render_kw={"type": "tel"})
    items = FieldList(FormField(LineItemForm), min_entries=1, max_entries=MAX_ITEMS)
    discount = StringField("Discount", default="0", validators=[Length(max=30)],
                           render_kw={"inputmode": "decimal"})
    tax = StringField("Tax", default="0", validators=[Length(max=30)], render_kw={"inputmode": "decimal"})
    payment_method = SelectField("Payment method", choices=_labelled(PAYMENT_METHODS))
    channel = SelectField("Channel", choices=_labelled(CHANNELS))

    def wants_rows_changed(self, formdata: Any) -> bool:
        """True when the plain-HTML "Add line" / "Remove" buttons were pressed (no saving then)."""
        return "add_line" in formdata or "remove_line" in formdata

    def change_rows(self, formdata: Any) -> None:
        if "add_line" in formdata and len(self.items) < MAX_ITEMS:
            self.items.append_entry()
        remove = formdata.get("remove_line", "")
        if remove.isdigit() and int(remove) < len(self.items) and len(self.items) > 1:
            kept = [entry.data for n, entry in enumerate(self.items) if n != int(remove)]
            while len(self.items):
                self.items.pop_entry()
            for data in kept:
                self.items.append_entry(data)

    def amounts(self, currency: str, locale: str) -> OrderAmounts | None:
        """Typed amounts as minor units; None (with messages on the fields) if any is unreadable."""
        ok = True

        def money(field: Any) -> int:
            nonlocal ok
            try:  # an empty or blank discount or tax is none at all
                return parse_money((field.data or "").strip() or "0", currency, locale)
            except ValueError as exc:
                field.errors = [*field.errors, str(exc)]
                ok = False
                return 0

        lines = []
        for entry in self.items:
            row = entry.form
            if row.is_blank():
                continue
            price = money(row.unit_price) if (row.unit_price.data or "").strip() else 0
            if not (row.unit_price.data or "").strip():
                row.unit_price.errors = [*row.unit_price.errors, "Enter a price."]
                ok = False
            if row.quantity.data is None:
                row.quantity.errors = [*row.quantity.errors, "Enter a quantity."]
                ok = False
            lines.append(LineInput(row.name.data or "", row.quantity.data or 0, price))
        discount, tax = money(self.discount), money(self.tax)
        return OrderAmounts(lines, discount, tax) if ok and not self.errors else None


class OrderAmounts(NamedTuple):
    items: list[LineInput]
    discount: int
    tax: int


class StatusForm(WebForm):
    to_status = HiddenField(validators=[DataRequired()])


class NoteForm(WebForm):
    note = TextAreaField("Add a note", validators=[Length(max=2000)],
                         render_kw={"rows": 3, "maxlength": 2000})


# --- customers ------------------------------------------------------------------------------

class CustomerForm(WebForm):
    name = StringField("Name", validators=[Length(max=120)], render_kw={"maxlength": 120, "autofocus": True})
    email = StringField("Email", validators=[Length(max=254)], render_kw={"type": "email", "maxlength": 254})
    phone = StringField("Phone", validators=[Length(max=32)], render_kw={"type": "tel", "maxlength": 32},
                        description="Digits, spaces, +, - or brackets.")


class CustomerFilterForm(Form):
    """The customer list's GET form (controls only; services.customer_queries validates)."""

    q = SearchField("Search", validators=[Length(max=200)],
                    render_kw={"placeholder": "Name or email", "maxlength": 200, "autocomplete": "off"})
    sort = SelectField("Sort", choices=[SelectChoice(k, v[0]) for k, v in CUSTOMER_SORTS.items()], validate_choice=False)


# --- team -----------------------------------------------------------------------------------

class InviteForm(WebForm):
    email = EmailField("Email", validators=[DataRequired("Enter their email address."), Length(max=254)],
                       render_kw={"maxlength": 254, "autocomplete": "off"})
    name = StringField("Name", validators=[Length(max=120)], render_kw={"maxlength": 120, "autocomplete": "off"},
                       description="Optional.")
    role = SelectField("Role", default="staff",
                       choices=[SelectChoice("staff", "Staff: orders and customers"),
                                SelectChoice("owner", "Owner: also the team")])


class RoleForm(WebForm):
    role = HiddenField(validators=[DataRequired()])


# --- stats ----------------------------------------------------------------------------------

class StatsRangeForm(Form):
    """The stats page's custom range (a GET form; services.stats validates the values)."""

    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


# --- settings -------------------------------------------------------------------------------

class SettingsForm(WebForm):
    """The choices are filled by the view (services.tenants.locale_choices / timezone_choices)."""

    name = StringField("Business name", validators=[DataRequired("Give the business a name."), Length(max=120)],
                       render_kw={"maxlength": 120})
    locale = SelectField("Language and number format", validate_choice=False,
                         description="How amounts and dates are written on every page and export.")
    timezone = SelectField("Time zone", validate_choice=False,
                           description="Which day an order falls on, in lists, stats and the monthly "
                                       "order limit. Changing it recounts every day of your stats.")
