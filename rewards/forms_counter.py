"""Forms for the counter: enrolling a customer and giving them a physical card.

They parse what the cashier types; members' services decide and write. Each carries the idempotency
key it was rendered with (KeyedForm), so a double click or a resubmit writes once.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.forms import KeyedForm, MemberForm


class EnrolForm(MemberForm):
    """The counter's enrolment: who they are, how to reach them, what they agreed to, their card."""

    email_consent = forms.BooleanField(label=_("Offers by email"), required=False)
    sms_consent = forms.BooleanField(label=_("Offers by SMS"), required=False)
    card = forms.CharField(
        label=_("Physical card"),
        max_length=32,
        required=False,
        help_text=_("Scan or type the number of the card you hand them, if any."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The form appears under the search box while the cashier types there: it must not take the focus.
        self.fields["first_name"].widget.attrs.pop("autofocus", None)
        self.fields["referral_code"].widget.attrs.update(autocomplete="off", autocapitalize="characters")

    def focus_first_error(self) -> None:
        """After a refusal the cursor goes to the first field to fix."""
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.is_hidden:
                self.fields[name].widget.attrs["autofocus"] = True
                return


def enrol_initial(query: str) -> dict[str, str]:
    """What the enrolment form can take from a search that found nobody: a phone, an email or a name."""
    query = query.strip()
    if not query:
        return {}
    if "@" in query:
        return {"email": query}
    if sum(ch.isdigit() for ch in query) >= 6:
        return {"phone": query}
    if any(ch.isdigit() for ch in query):
        return {"card": query}  # letters and digits: most likely an unknown card's number
    first, _sep, last = query.partition(" ")
    return {"first_name": first, "last_name": last.strip()}


class CardForm(KeyedForm):
    """Link a physical card to the member, or replace their lost one with a new card."""

    number = forms.CharField(
        label=_("Card number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    reason = forms.CharField(label=_("Why (optional)"), max_length=200, required=False)

    def __init__(self, *args, replacing: bool = False, **kwargs) -> None:
        # The panel also holds the purchase form: ids of its own (card-number, not id_number).
        kwargs.setdefault("auto_id", "card-%s")
        super().__init__(*args, **kwargs)
        if replacing:
            self.fields["number"].label = _("New card number")
