"""Forms of the pages: sign-up, the campaign editor and settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from dynassign.assignment.strategies import registry
from dynassign.exceptions import DynassignError
from dynassign.organizations import config


class SignupForm(UserCreationForm):
    first_name = forms.CharField(
        max_length=150, help_text="Shown to contacts where a script uses {texterFirstName}."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


# Settings an admin edits on the organization page and overrides per campaign,
# grouped as the pages show them, each with its label.
TEXTER_UI_SETTINGS = {
    "DYNAMIC_ASSIGNMENT_CONTROLS": "Dynamic assignment controls",
    "REQUEST_LABEL": "Request button label",
    "REQUEST_MESSAGE": "Request message",
    "NOTHING_TO_DO_MESSAGE": "Nothing-to-do message",
    "RELEASE_CONTACTS": "Release contacts",
    "RELEASE_CONVERSATIONS": "Release conversations",
    "RELEASE_CONVERSATIONS_VETTED_ONLY": "Release conversations: vetted texters only",
    "TAKE_CONVERSATIONS": "Take conversations",
    "TAKE_CONVERSATIONS_BATCH_SIZE": "Take conversations batch size",
    "TAKE_CONVERSATIONS_BATCH_TYPE": "Take conversations batch type",
    "OUTBOUND_UNASSIGN": "Outbound unassign",
}
ASSIGNMENT_SETTINGS = {
    "MAX_TEXTERS_PER_CAMPAIGN": "Max texters per campaign",
    "MAX_CONTACTS_PER_TEXTER": "Max contacts per texter",
    "CAMPAIGN_INVITES_CURRENT_USERS_ONLY": "Campaign links admit current members only",
    "BULK_SEND": "Bulk send",
}
TEXTING_HOURS_SETTINGS = {
    "TEXTING_HOURS_ENFORCED": "Enforce texting hours",
    "TEXTING_HOURS_START": "Texting hours start",
    "TEXTING_HOURS_END": "Texting hours end",
    "TIMEZONE": "Time zone",
}
ORGANIZATION_SETTINGS = {
    "DYNAMICASSIGNMENT_BATCHES": "Batch strategy",
    **ASSIGNMENT_SETTINGS,
    **TEXTER_UI_SETTINGS,
    **TEXTING_HOURS_SETTINGS,
    "PHONE_COUNTRY": "Phone country of uploads",
}
CAMPAIGN_SETTINGS = {**ASSIGNMENT_SETTINGS, **TEXTER_UI_SETTINGS, **TEXTING_HOURS_SETTINGS}
STRATEGY_SETTINGS = {"DYNAMICASSIGNMENT_BATCHES", "TAKE_CONVERSATIONS_BATCH_TYPE"}


def strategy_choices() -> list[tuple[str, str]]:
    return [(name, f"{strategy.display_name()} ({name})") for name, strategy in registry.all_strategies().items()]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "no limit" if value is None else str(value)


def setting_field(name: str, label: str, inherited: Any) -> forms.Field:
    """Build the form field of one setting; empty keeps the inherited value, which the field names."""
    definition = config.SETTINGS[name]
    inherited_value = _shown(inherited)
    # Text settings such as REQUEST_MESSAGE end with their own punctuation, so no period is added after them.
    end = "" if inherited_value.endswith((".", "!", "?")) else "."
    inherited_text = f"Empty uses the inherited value: {inherited_value}{end}"
    help_text = f"{definition.help} {inherited_text}"
    if isinstance(definition.default, bool):
        choices = [("", f"Inherit ({_shown(inherited)})"), ("true", "On"), ("false", "Off")]
        return forms.ChoiceField(label=label, choices=choices, required=False, help_text=definition.help)
    if name in STRATEGY_SETTINGS:
        choices = [("", f"Inherit ({inherited})"), *strategy_choices()]
        return forms.ChoiceField(label=label, choices=choices, required=False, help_text=definition.help)
    return forms.CharField(label=label, required=False, help_text=help_text, max_length=500)


class SettingsForm(forms.Form):
    """Overrides of the given settings; each value is checked by the setting's own validation."""

    def __init__(self, *args: Any, settings: dict[str, str], inherited: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.setting_names = list(settings)
        for name, label in settings.items():
            self.fields[name] = setting_field(name, label, inherited.get(name))

    @classmethod
    def initial_from(cls, stored: dict[str, Any]) -> dict[str, str]:
        initial = {}
        for name, value in stored.items():
            if isinstance(value, bool):
                initial[name] = "true" if value else "false"
            else:
                initial[name] = str(value)
        return initial

    def overrides(self) -> dict[str, Any]:
        """Return the validated overrides, ``None`` removing one; add field errors for invalid values."""
        values: dict[str, Any] = {}
        for name in self.setting_names:
            raw = (self.cleaned_data.get(name) or "").strip()
            if raw == "":
                values[name] = None
                continue
            try:
                values[name] = config.validate(name, raw)
            except DynassignError as error:
                self.add_error(name, error.message)
        return values

    def groups(self, groups: dict[str, list[str]]) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in groups.items()]


class CampaignForm(forms.Form):
    """The campaign's own fields; the service checks the values and its messages name the field."""

    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    script = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="The initial message. {firstName}, {lastName}, {texterFirstName} and upload columns are filled in.",
    )
    use_dynamic_assignment = forms.BooleanField(
        required=False, label="Dynamic assignment", help_text="Texters join by link and request batches."
    )
    batch_size = forms.CharField(required=False, help_text="Contacts per batch request; a positive whole number.")
    response_window = forms.CharField(initial="48", help_text="Hours a reply may wait before it is stale.")
    default_strategy = forms.ChoiceField(
        required=False, label="Default strategy", help_text="Used by the request button. Empty inherits the organization's."
    )
    other_strategies = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Also enabled strategies",
        help_text="Batch types a request may name, such as the take-conversations type.",
    )

    def __init__(self, *args: Any, inherited_strategy: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        choices = strategy_choices()
        self.fields["default_strategy"].choices = [("", f"Inherit ({inherited_strategy})"), *choices]
        self.fields["other_strategies"].choices = choices

    @staticmethod
    def initial_from(campaign: Any) -> dict[str, Any]:
        enabled = registry.split_names(campaign.settings.get("DYNAMICASSIGNMENT_BATCHES"))
        return {
            "title": campaign.title,
            "description": campaign.description,
            "script": campaign.script,
            "use_dynamic_assignment": campaign.use_dynamic_assignment,
            "batch_size": "" if campaign.batch_size is None else str(campaign.batch_size),
            "response_window": str(campaign.response_window),
            "default_strategy": enabled[0] if enabled else "",
            "other_strategies": enabled[1:],
        }

    def values(self) -> dict[str, Any]:
        """Return the service's field values; numbers that do not parse become field errors."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            "title": data["title"], "description": data["description"], "script": data["script"],
            "use_dynamic_assignment": data["use_dynamic_assignment"],
        }
        for name, empty in (("batch_size", None), ("response_window", 48)):
            raw = (data.get(name) or "").strip()
            if raw == "":
                values[name] = empty
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                self.add_error(name, f"{name} must be a whole number, not {raw!r}.")
        return values

    def strategies(self) -> str | None:
        """Return the campaign's DYNAMICASSIGNMENT_BATCHES, default first, or None to inherit."""
        default = self.cleaned_data.get("default_strategy") or ""
        others = [name for name in self.cleaned_data.get("other_strategies") or [] if name != default]
        if not default and others:
            self.add_error("default_strategy", "Choose a default strategy to enable other strategies beside it.")
            return None
        if not default:
            return None
        return ",".join([default, *others])
