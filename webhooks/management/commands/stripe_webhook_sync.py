"""Create or update payops's Stripe webhook endpoint, subscribed to exactly the handled types."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webhooks.services.endpoint_sync import stripe_webhook_endpoint_sync


class Command(BaseCommand):
    help = "Create or update the Stripe webhook endpoint for this install (only the event types payops handles)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="public URL of /webhooks/stripe/, https in production")

    def handle(self, *args: object, url: str, **options: object) -> None:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise CommandError("the webhook URL must be https (plain http only for a local install)")
        result = stripe_webhook_endpoint_sync(url=url)
        self.stdout.write(f"{result.action} {result.endpoint.id} -> {result.endpoint.url}")
        self.stdout.write(f"subscribed to {len(result.endpoint.enabled_events)} event types:")
        for event_type in result.endpoint.enabled_events:
            self.stdout.write(f"  {event_type}")
        if result.endpoint.secret:
            self.stdout.write(
                "\nSigning secret (shown once by Stripe): add it to STRIPE_WEBHOOK_SECRETS, or to the\n"
                "'webhook_secrets' list of the payops secret in AWS Secrets Manager / SSM, keeping the old\n"
                "secret until Stripe stops signing with it:\n"
                f"  {result.endpoint.secret}"
            )
        else:
            self.stdout.write("The signing secret is unchanged (Stripe shows it only on creation).")
