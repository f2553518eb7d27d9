"""Forms for feature flags."""
from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from web.forms import WebForm


class FlagForm(WebForm):
    key = StringField("Key", validators=[Length(max=64)], description="e.g. bulk_refunds. Cannot change later.")
    description = TextAreaField("What it gates", validators=[Length(max=500)])
    default = BooleanField("On by default")
    rollout_percent = IntegerField("Rollout %", default=0, validators=[NumberRange(0, 100)],
                                   description="Tenants in this share get it on, when neither an override nor their plan decides.")
    archived = BooleanField("Archived — kill switch: off for everyone")


class OverrideForm(WebForm):
    tenant = StringField("Tenant slug", validators=[DataRequired(), Length(max=30)])
    value = SelectField("Value", choices=[SelectChoice("on", "On"), SelectChoice("off", "Off")])
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])
    expires_in_days = IntegerField("Expires in (days)", validators=[Optional(), NumberRange(1, 365)],
                                   description="Empty = never")
