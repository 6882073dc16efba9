"""What the user wrote: the spec's dataclasses, its fields' validation, the formula parser."""
