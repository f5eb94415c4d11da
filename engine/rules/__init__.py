"""If-then automation: rules fired by record changes, flow outcomes, schedules, dates and webhooks."""
