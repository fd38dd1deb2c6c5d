"""tg_webhook: Telegram updates for the parents' bot (onboarding; booking comes next)."""

import functions_framework
from flask import Request, Response

from shared.bootstrap import Container
from shared.config import load_settings_or_exit
from shared.entrypoints import tg as entry

container = Container(load_settings_or_exit("tg_webhook"))


@functions_framework.http
def tg_webhook(request: Request) -> Response:
    return entry.handle(request, container)
