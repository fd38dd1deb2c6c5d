"""tilda_webhook: Tilda form submissions → a lead, its CRM sync and the email chain."""

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container
from shared.config import load_settings_or_exit
from shared.entrypoints import tilda as entry

container = Container(load_settings_or_exit("tilda_webhook"))


@functions_framework.http
def tilda_webhook(request: Request) -> Response:
    return entry.handle(request, container)
