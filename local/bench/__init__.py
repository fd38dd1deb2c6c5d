"""`make bench`: measure the design's budgets on this machine and write BENCHMARKS.md.

    python -m local.bench [--runs 5] [--store auto|firestore|redis|embedded-redis] [--no-write]

The store, the HTTP fakes (the OpenAI one included: the functions get OPENAI_BASE_URL and the key it
accepts) and the Cloud Tasks emulator are started once (`local.run.start_stack` without functions); the
functions are started here as real functions-framework processes, so each one is timed from the spawn of
its process. What is measured:

* cold start: spawn → first correct answer, as a ratio to a bare "hello" function started the same way;
  bare, tilda_webhook, email_chain, tg_webhook and reminders are interleaved, N runs, the median ratio
  is reported (each round's tg_webhook, once it has answered, registers its parent and books a lesson,
  whose −24 h reminder is reminders' first request); each round ends with a fresh tg_webhook whose first
  update is a new parent's question to the assistant (openai imported, one chat completion from the fake);
* warm path: tg_webhook on Redis and on the Firestore emulator against the anchor (a bare function with
  python-telegram-bot sending one message), interleaved, p50 ratios; the store round trips per update
  and per new Tilda lead, as the functions log them;
* peak RSS: VmHWM of every process of a function's tree (gunicorn master + worker) after a scenario
  (Tilda leads and their chains for tilda_webhook and email_chain; parents registering in the bot and
  booking a trial lesson, their updates delivered by the Telegram fake, for tg_webhook; the reminders
  of those lessons for reminders; parents asking the assistant, and a voice note, for tg_webhook again);
* Sheets calls per lead on the happy path (and the Resend/Telegram calls of the whole chain); the
  Telegram calls of one parent's registration in the bot, and the Sheets calls of tg_webhook (none);
* the Calendar, Zoom, Sheets and Telegram calls of one booking, and that a listing of free slots within
  30 s of the previous one costs no Calendar call;
* the OpenAI calls of an assistant question (one chat completion) and of a price question or an injection
  (none: the pre-filter answers), and that the assistant makes no Sheets call;
* that tilda_webhook, email_chain and reminders never import `openai` or `telegram`
  (python-telegram-bot), and tg_webhook not `openai` through /start, registration and booking (while its
  assistant path does), checked in a separate interpreter running the function through
  functions-framework's `create_app`, under `-X importtime` so the heaviest imports can be listed too.

Prints a table, then one `bench <subject>.<figure> <value> <unit>` line per figure for scripts.

    constants.py      the scenarios' sizes, texts and helper scripts
    results.py        figures, budgets and the results of a run
    lab.py            the running system: the stack, the functions started on it, their fakes
    answers.py        what counts as a function's correct answer; names of the calls fakes recorded
    warm.py           the warm path against the anchor; store round trips per update and per lead
    coldstart.py      cold starts, as ratios to a bare function
    scenarios.py      peak RSS and calls per lead, registration, booking, reminder and question
    import_checks.py  which heavy libraries each function imports
    report.py         the printed table and BENCHMARKS.md
    cli.py            `python -m local.bench`
"""
