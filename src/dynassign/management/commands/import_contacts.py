"""``dynassign import_contacts CAMPAIGN_ID FILE``: upload a CSV contact list from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dynassign.campaigns.importing import ImportReport, import_contacts
from dynassign.campaigns.models import Campaign
from dynassign.exceptions import DynassignError


class Command(BaseCommand):
    help = (
        "Import contacts from a UTF-8 CSV file into a campaign. The columns firstName, lastName and cell are "
        "required; zip and external_id are optional; other columns become custom fields. Prints the counts "
        "and every rejected line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int, help="Id of the campaign that receives the contacts.")
        parser.add_argument("file", type=Path, help="CSV file to import.")
        parser.add_argument(
            "--report", type=Path, metavar="OUT.csv",
            help="Also write the rejected lines to this CSV file (columns line, column, code, message).",
        )
        parser.add_argument(
            "--country", metavar="REGION",
            help="Two-letter region whose numbers are accepted, such as US; default: the PHONE_COUNTRY setting.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.select_related("organization").filter(pk=options["campaign_id"]).first()
        if campaign is None:
            raise CommandError(f"Campaign {options['campaign_id']} not found; check the id in the admin pages.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Contact file {str(path)!r} not found.")

        try:
            report = import_contacts(campaign, path, country=options["country"])
        except DynassignError as error:
            raise CommandError(error.message) from None

        self._print_report(campaign, report)
        if options["report"] is not None:
            with open(options["report"], "w", encoding="utf-8", newline="") as out:
                report.write_csv(out)
            self.stdout.write(f"Rejected lines written to {options['report']}")

    def _print_report(self, campaign: Campaign, report: ImportReport) -> None:
        self.stdout.write(f"Campaign {campaign.pk} ({campaign.title}): {report.imported} imported, {report.rejected} rejected")
        if report.opted_out:
            self.stdout.write(f"{report.opted_out} of the imported contacts are opted out")
        for row in report.iter_rejected_rows():
            column = f" {row.column}" if row.column else ""
            self.stdout.write(f"line {row.line}{column}: {row.code}: {row.message}")
