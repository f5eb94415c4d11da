"""What every part of the engine stands on: actors, the clock, errors, events, settings, messages."""
