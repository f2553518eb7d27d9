"""WTForms classes of the vendor console."""
from __future__ import annotations

from wtforms import (EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from web.forms import WebForm


class SignInForm(WebForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class TenantForm(WebForm):
    """New tenant. Plan and isolation choices are set by the view (they depend on the data and the
    database backend); the slug's rules live in services.tenants.slug_problem."""
    slug = StringField("Address (slug)", validators=[DataRequired(message="Choose an address for the tenant.")],
                       description="3–30 characters: a–z, 0–9 and hyphens. The tenant's URL; cannot change later.",
                       render_kw={"autocomplete": "off", "spellcheck": "false", "autofocus": True})
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    plan = SelectField("Plan", validate_choice=True)
    isolation = SelectField("Isolation", default="shared",
                            description="Where the tenant's data lives: shared tables, its own schema, or its own database.")
    owner_email = EmailField("Owner email", validators=[DataRequired(), Length(max=254)],
                             description="Gets the one-time link to set a password.")
    currency = SelectField("Currency", choices=[SelectChoice("IDR", "IDR — Indonesian rupiah"),
                                                SelectChoice("MYR", "MYR — Malaysian ringgit"),
                                                SelectChoice("USD", "USD — US dollar")], default="USD")
    trial_days = IntegerField("Trial days", validators=[Optional(), NumberRange(0, 365)],
                              description="Leave empty for the plan's trial length.")


class SuspendForm(WebForm):
    reason = TextAreaField("Reason", validators=[DataRequired(message="Say why; the tenant will see it."),
                                                 Length(max=500)],
                           description="Shown to the tenant's users on every page.",
                           render_kw={"rows": 2})


class ChangePlanForm(WebForm):
    plan = SelectField("New plan", validate_choice=True)


class ExtendTrialForm(WebForm):
    days = IntegerField("Days", default=14, validators=[DataRequired(message="Extend by 1 to 90 days."),
                                                        NumberRange(1, 90, message="Extend by 1 to 90 days.")])


class ActionForm(WebForm):
    """A button with only the CSRF token (resume, churn, retry, check now, re-issue link)."""


class BulkForm(WebForm):
    action = SelectField("With the ticked tenants", choices=[SelectChoice("suspend", "Suspend"),
                                                                    SelectChoice("resume", "Resume")])
    reason = StringField("Reason (for suspend)", validators=[Optional(), Length(max=500)])
    confirmed = HiddenField()
    back = HiddenField()


class CodeForm(WebForm):
    """A 6-digit code from an authenticator app, or a recovery code."""

    code = StringField("Code", validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True})
