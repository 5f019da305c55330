"""Mail to shoppers: one row per message, rendered by payops, sent through SES by a worker."""
