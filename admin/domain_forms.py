"""The form of the custom-domains card on a tenant's page."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired

from web.forms import WebForm


class DomainForm(WebForm):
    # Length and format are checked by services.domains.normalise_domain, with its own messages.
    domain = StringField("Domain", validators=[DataRequired(message="Enter a domain name, such as shop.example.com.")],
                         description="A domain the tenant owns, such as shop.example.com. Point it (CNAME) "
                                     "at this service, then prove ownership with the TXT record shown.",
                         render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "shop.example.com"})
