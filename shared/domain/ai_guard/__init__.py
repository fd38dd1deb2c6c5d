"""Guards around the AI assistant: what may be asked (pre-filter) and what may be answered (post-filter).

Pure, standard library only. The pre-filter runs before any API call: price questions get the canned price
answer with the manager's link (prices change and are the managers' to quote), prompt-injection attempts get a
canned refusal. The post-filter runs on the model's answer: no prices, no foreign links, no quoting of the
system prompt, no walls of text. Nothing here logs or keeps message text; every pattern is compiled once, at
import.

    text.py        normalisation (look-alike letters, marks, hidden characters, typos)
    injection.py   the injection corpus and `is_injection`
    prices.py      price words and amounts, in questions and in answers
    links.py       links in answers and whether each is allowed
    prefilter.py   `screen_question`
    postfilter.py  `screen_answer`
"""

from shared.domain.ai_guard.injection import is_injection
from shared.domain.ai_guard.links import has_foreign_link
from shared.domain.ai_guard.postfilter import leaks_prompt, screen_answer
from shared.domain.ai_guard.prefilter import screen_question
from shared.domain.ai_guard.prices import is_price_question, mentions_price
from shared.domain.ai_guard.text import normalise, within_one_edit
from shared.domain.ai_guard.verdicts import AnswerPolicy, Screened, Verdict, Violation

__all__ = [
    "AnswerPolicy",
    "Screened",
    "Verdict",
    "Violation",
    "has_foreign_link",
    "is_injection",
    "is_price_question",
    "leaks_prompt",
    "mentions_price",
    "normalise",
    "screen_answer",
    "screen_question",
    "within_one_edit",
]
