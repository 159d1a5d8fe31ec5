"""create_service_client NAME [--merchant NAME ...] [--json]: a token center credential for
one of the provider's own services, shown once."""

import json as json_module

from django.core.management.base import BaseCommand, CommandError

from token_center.clients import ServiceClientError, service_client_create


class Command(BaseCommand):
    help = (
        "Create a service client for /internal/v1/ (the token center); print its key once. "
        "Without --merchant it may borrow every account's token and the component token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the service's name, e.g. crm")
        parser.add_argument(
            "--merchant",
            action="append",
            default=[],
            dest="merchants",
            help="scope the client to this merchant's accounts (repeat for several)",
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, name: str, merchants: list[str], json: bool = False, **options):
        try:
            client, raw_key = service_client_create(name=name, merchant_names=merchants)
        except ServiceClientError as exc:
            raise CommandError(str(exc)) from None
        scope = "all accounts" if client.all_accounts else ", ".join(sorted(merchants))
        if json:
            self.stdout.write(
                json_module.dumps(
                    {
                        "service_client_id": client.pk,
                        "name": client.name,
                        "key": raw_key,
                        "key_prefix": client.prefix,
                        "scope": None if client.all_accounts else sorted(merchants),
                    },
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(f'Service client "{client.name}" created (id {client.pk}).')
        self.stdout.write(f"Scope: {scope}.")
        self.stdout.write("Key (shown only now, store it safely):")
        self.stdout.write(f"  {raw_key}")
