"""email_chain: the Cloud Tasks target running the lead pipeline (CRM sync, email1, email2, call alert)."""

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container
from shared.config import load_settings_or_exit
from shared.entrypoints import email_chain as entry

container = Container(load_settings_or_exit("email_chain"))


@functions_framework.http
def email_chain(request: Request) -> Response:
    return entry.handle(request, container)
