"""The scrubber's rules, one module each: ``RULE`` (its metadata) and ``check(claim, context)``."""
