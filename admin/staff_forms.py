"""Forms of the staff pages and the invited member's set-password page."""
from __future__ import annotations

from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.forms import WebForm

ROLE_CHOICES = [
    SelectChoice("viewer", "Viewer — read only"),
    SelectChoice("support", "Support — read, suspend, extend trials"),
    SelectChoice("admin", "Admin — all but staff"),
    SelectChoice("owner", "Owner — everything, staff too"),
]


class InviteForm(WebForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter their email address."), Length(max=254)],
                       render_kw={"autocomplete": "off", "autofocus": True})
    name = StringField("Name", validators=[Length(max=120)], render_kw={"autocomplete": "off"},
                       description="Optional; shown in the staff list.")
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer", validate_choice=True)


class RoleForm(WebForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=True)
