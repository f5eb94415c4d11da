"""What runs later: due work, the outbox of e-mail and webhooks, and notifications."""
