"""The local console: the whole local system in a browser page (`make dev` serves it on 127.0.0.1).

Be a parent in a Telegram-like chat (and a manager in the managers' group), read the CRM sheets, the
emails and the calendar, see and run the Cloud Tasks queue, move the clock and switch faults on. It holds
no state of its own beyond the parents it was asked to play: everything it shows is read from the fakes'
and the emulator's own state and control endpoints, and everything it does goes through them, so what
the page shows is what the functions see. One static page with plain JavaScript (no build step) polls
the JSON API of `local.console.app`. Local only: never part of a function's archive.
"""
