"""reminders: the Cloud Tasks target that reminds parents of their trial lesson (−24 h, −5 h)."""

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container
from shared.config import load_settings_or_exit
from shared.entrypoints import reminders as entry

container = Container(load_settings_or_exit("reminders"))


@functions_framework.http
def reminders(request: Request) -> Response:
    return entry.handle(request, container)
