"""Pure domain: value objects and rules. No Qt, no SQLAlchemy, no I/O."""
