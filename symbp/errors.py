"""The one exception a user sees: `SpecError` names the field at fault and what is allowed."""


class SymbpError(Exception):
    """An error caused by the user's input; the CLI prints it in one line and exits with status 2."""


class SpecError(SymbpError):
    """A network spec is wrong. `field` is a dotted path such as ``layers[1].activation``."""

    def __init__(self, field: str, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {message}" if field else f"{where}{message}")
