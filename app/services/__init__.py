"""Domain services: rules and queries, no request or ``g``; each takes the actor explicitly."""
