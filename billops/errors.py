"""User-facing errors: the CLI prints their message on one line and exits non-zero."""


class BillopsError(Exception):
    """An error caused by input or state the user can fix; never shown with a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
