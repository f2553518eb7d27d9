"""The base of the app's WTForms classes."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted  # Flask-WTF's "read the request" sentinel
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


def text_fields(body: Any) -> ImmutableMultiDict[str, str]:
    """A JSON body as form fields: an object's text values, numbers as their text. Anything else
    (lists, objects, null, booleans, a body that is not an object) reads as a missing field."""
    if not isinstance(body, dict):
        return ImmutableMultiDict()
    return ImmutableMultiDict({key: value if isinstance(value, str) else str(value)
                               for key, value in body.items()
                               if isinstance(value, str) or (isinstance(value, (int, float))
                                                             and not isinstance(value, bool))})


class WebForm(FlaskForm):
    """A FlaskForm (CSRF included) that reads a JSON body safely: Flask-WTF hands a JSON body's
    values to the fields as they are, and a list where a field expects text fails deep inside."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and _is_submitted() and request.is_json and not request.form \
                    and not request.files:
                return text_fields(request.get_json(silent=True))
            return super().wrap_formdata(form, formdata)


class SetPasswordForm(WebForm):
    """Choosing a password through a one-time link (vendor staff and tenant users alike; the length
    rule itself is services.passwords's)."""

    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)],
                             description="At least 8 characters.",
                             render_kw={"autocomplete": "new-password", "autofocus": True})
    confirm = PasswordField("Repeat it", validators=[DataRequired(), EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})
