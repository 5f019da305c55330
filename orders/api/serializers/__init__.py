"""Request parsing and response shapes of the API, a module per concept. No business logic here."""
