"""Guards around the AI assistant: what may be asked (pre-filter) and what may be answered (post-filter).

Pure. The pre-filter runs before any API call: price questions get the canned price answer with the manager's
link (prices change and are the managers' to quote), prompt-injection attempts get a canned refusal. The
post-filter runs on the model's answer: no prices, no foreign links, no quoting of the system prompt, no walls
of text.
Nothing here logs or keeps message text; every pattern is compiled once, at import.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class Verdict(StrEnum):
    PRICE = "price"
    INJECTION = "injection"


class Violation(StrEnum):
    EMPTY = "empty"
    PRICE = "price"
    LINK = "link"
    PROMPT_LEAK = "prompt_leak"
    LENGTH = "length"


@dataclass(frozen=True)
class AnswerPolicy:
    secret_prompt: str  # the instruction part of the system prompt, which must never be quoted back
    allowed_hosts: frozenset[str]  # hosts links may point to; their subdomains are allowed too
    max_chars: int = 1000
    # Exact links allowed although their host is not (the manager's «https://t.me/allin_manager»); an
    # «@username» is allowed when «https://t.me/username» is here.
    allowed_urls: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Screened:
    text: str | None  # what may be sent (None: replace the answer with the safe fallback)
    violation: Violation | None  # why it was replaced or shortened (for logs and metrics)


# ---------------------------------------------------------------------------------------------------------
# Normalisation: one spelling for the many ways the same word can be typed.

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_BLANKS = re.compile(r"[^\S\n]+")
_ALNUM_RUN = re.compile(r"[^\W_]+")

# Look-alike letters. Lower case only: normalisation lower-cases first (so В/B and Н/H become в/b and н/h).
_CYR_TO_LAT = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k", "м": "m", "т": "t",
    "в": "b", "н": "h", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ԛ": "q", "ԝ": "w", "п": "n",
    "и": "u", "г": "r", "ь": "b",
}  # fmt: skip
_LAT_TO_CYR = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "k": "к", "m": "м", "t": "т",
    "b": "в", "h": "н", "n": "п", "u": "и", "r": "г",
}  # fmt: skip
_GREEK_TO_LAT = {
    "α": "a", "ο": "o", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "η": "n", "β": "b", "γ": "y", "ς": "c", "μ": "u",
}  # fmt: skip
_LOOKALIKES = set(_CYR_TO_LAT) | set(_LAT_TO_CYR) | set(_GREEK_TO_LAT)


def _script(ch: str) -> str:
    if "a" <= ch <= "z" or "\u00e0" <= ch <= "\u024f":
        return "latin"
    if "\u0400" <= ch <= "\u052f":
        return "cyrillic"
    if "\u0370" <= ch <= "\u03ff":
        return "greek"
    return ""


def _one_script(match: re.Match[str]) -> str:
    """A word mixing scripts is written in its majority script (a Cyrillic «о» inside «ignore»)."""
    word = match.group()
    counts = {"latin": 0, "cyrillic": 0, "greek": 0}
    strong = {"latin": 0, "cyrillic": 0, "greek": 0}  # letters with no look-alike decide a tie
    for ch in word:
        script = _script(ch)
        if script:
            counts[script] += 1
            strong[script] += ch not in _LOOKALIKES
    if sum(1 for n in counts.values() if n) < 2:
        return word
    latin = (counts["latin"], strong["latin"])
    cyrillic = (counts["cyrillic"], strong["cyrillic"])
    if latin > cyrillic:
        return "".join(_CYR_TO_LAT.get(ch, _GREEK_TO_LAT.get(ch, ch)) for ch in word)
    if cyrillic > latin:
        return "".join(_LAT_TO_CYR.get(_GREEK_TO_LAT.get(ch, ch), ch) for ch in word)
    return word


def _strip_latin_marks(text: str) -> str:
    """Accents off Latin letters («prïce»), kept on Cyrillic ones (й must stay й)."""
    kept: list[str] = []
    base_cyrillic = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn":
            if base_cyrillic:
                kept.append(ch)
            continue
        base_cyrillic = _script(ch) == "cyrillic"
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, lower case, ё→е, one script per word, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # zero-width, bidi, soft hyphen
    text = _strip_latin_marks(text.lower()).replace("ё", "е").translate(_APOSTROPHES)
    text = _BLANKS.sub(" ", text)
    return _ALNUM_RUN.sub(_one_script, text)


def _unhidden(text: str) -> str:
    """NFKC, invisible characters removed, case kept: for reading links."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def within_one_edit(a: str, b: str) -> bool:
    """Damerau–Levenshtein (optimal string alignment) distance ≤ 1, without building the matrix."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        i, j = diffs[0], diffs[-1]
        return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _fuzzy_in(token: str, keywords: Iterable[str], never: frozenset[str] = frozenset()) -> str | None:
    """The keyword (5+ letters) the token is one typo away from, unless the token is a real other word."""
    if token in never:
        return None
    for keyword in keywords:
        if len(keyword) >= 5 and abs(len(keyword) - len(token)) <= 1 and within_one_edit(token, keyword):
            return keyword
    return None


# ---------------------------------------------------------------------------------------------------------
# Pre-filter, injection: regular expressions over several views of the text.
#
# In the pattern sources a space is a required gap between words, «~» an optional one and «¦» a word
# boundary. Each source compiles twice: for ordinary text (gap: any run of non-letters; «¦»: \b) and for
# text that was spelt out letter by letter, «i g n o r e a l l», whose words come out glued together
# (gap: optional; «¦»: nothing).

_IGN_EN = (
    r"(?:ignore|disregard|forget|skip|bypass|override|overlook|neglect|abandon|discard|drop|erase|delete|"
    r"throw away|put aside|set aside|dont follow|don't follow|do not follow|stop following|stop obeying|"
    r"no longer follow)"
)
_KEY_EN = (
    r"(?:all|any|every|each|previous|previously|prior|above|earlier|preceding|past|former|original|initial|"
    r"system|your|ur|these|those|given|existing|current|default|safety|developer|developers|openai|preset|"
    r"predefined|built-in|builtin|hidden|secret|programmed)"
)
_FILL_EN = r"(?:the|of|my|a|an|and|or|you|were|was|have|been|given|to|that|which|s)"
_NOUN_EN = (
    r"(?:instructions?|instruction set|rules?|prompts?|guidelines?|commands?|constraints?|restrictions?|"
    r"programming|guidance|directives?|directions|polic(?:y|ies)|filters?|limitations?|training|guardrails?|"
    r"protocols?|principles|context|settings|safeguards|ethics|morals|boundaries|content policy)"
)
_REVEAL_EN = (
    r"(?:show|reveal|print|display|output|repeat|recite|tell|give|share|leak|dump|expose|write|type|list|"
    r"send|paste|copy|spell|translate|summari[sz]e|describe|provide|return|disclose|echo|read|"
    r"what are|what were|what is|what's|whats)"
)
_SECRET_ADJ_EN = (
    r"(?:exact|full|complete|entire|whole|original|initial|hidden|secret|system|internal|developer|"
    r"confidential|first|raw|verbatim|current)"
)
_NOT_ABOUT_SCHOOL_EN = (
    r"(?! (?:for|on|about|regarding|to|how|reply|response|answer|attention|"
    r"of (?:the|your|this) (?:course|school|lesson|class|trial)))"
)
_SUBJECT_EN = (
    r"(?:you are|you re|youre|you will be|you ll be|become|act|answer|respond|reply|behave|operate|talk|"
    r"speak|ai|bot|assistant|model|gpt|chatgpt|mode|version|chatbot|yourself)"
)
_BLOCKS_EN = (
    r"(?:restrictions|limitations|limits|filters?|censorship|guardrails|boundaries|safeguards|rules|"
    r"guidelines|ethics|morals|moral|ethical|restraints)"
)

_IGN_RU_BARE = (
    r"(?<!не\s)(?:игнорируй(?:те)?|проигнорируй(?:те)?|игнорировать|проигнорировать|отбрось(?:те)?|"
    r"пренебреги(?:те)?|наплюй(?:те)? на|плюнь(?:те)? на)"
)
_IGN_RU = (
    r"(?<!не\s)(?:забудь(?:те)?|забыть|не обращай(?:те)? внимания на|не обращать внимания на|"
    r"не следуй(?:те)?|не слушай(?:те)?|не слушайся|перестань(?:те)? следовать|прекрати(?:те)? следовать|"
    r"не учитывай(?:те)?|"
    r"отмени(?:те)?|сбрось(?:те)?|обнули(?:те)?|удали(?:те)?|выкинь(?:те)?|нарушь(?:те)?|обойди(?:те)?|"
    r"отключи(?:те)?|сними(?:те)?|отключить|снять|обойти|нарушить)"
)
_KEY_RU = (
    r"(?:все|всех|всем|свои|своих|твои|твоих|твоим|ваши|ваших|предыдущ\w*|прошл\w*|прежн\w*|ранее|данн\w*|"
    r"полученн\w*|изначальн\w*|исходн\w*|первоначальн\w*|системн\w*|эти|этих|вышеуказанн\w*|"
    r"вышеизложенн\w*|вышеперечисленн\w*|старые|старых|заданн\w*|установленн\w*|выданн\w*|прописанн\w*|"
    r"встроенн\w*|заложенн\w*|любые|любых|всякие|всяких)"
)
_FILL_RU = (
    r"(?:на|о|об|про|мне|тебе|вам|тебя|вас|которые|что|были|был|была|было|даны|дали|до|этого|этой|выше|"
    r"сейчас|уже|просто|пожалуйста|абсолютно|полностью|те)"
)
_NOUN_RU = (
    r"(?:инструкци|правил|указани|ограничени|настройк|промпт|промт|запрет|директив|установк|команд|"
    r"предписани|инструктаж|принцип|фильтр|рамк|контекст|политик|цензур)\w*"
)
_REVEAL_RU = (
    r"(?:покажи|покажите|выведи|выведите|напиши|напишите|скажи|скажите|расскажи|расскажите|раскрой|"
    r"раскройте|дай|дайте|повтори|повторите|процитируй|процитируйте|распечатай|распечатайте|скинь|скиньте|"
    r"пришли|пришлите|отправь|отправьте|перечисли|перечислите|озвучь|озвучьте|скопируй|скопируйте|опиши|"
    r"опишите|переведи|переведите|выдай|выдайте|продублируй|воспроизведи|назови|поделись)"
)
_SECRET_KEY_RU = (
    r"(?:свои|своих|свой|твои|твоих|твой|твою|исходн\w*|изначальн\w*|системн\w*|скрыт\w*|секретн\w*|"
    r"первоначальн\w*|внутренн\w*|конфиденциальн\w*|оригинальн\w*|тебе данн\w*|данн\w* тебе|"
    r"выданн\w* тебе|полученн\w*|заложенн\w*|встроенн\w*)"
)
_HEDGE_RU = r"(?:(?:мне|нам|пожалуйста|сюда|тут|весь|всю|все|полностью|целиком|дословно) )*"

_INJECTION_SOURCES: tuple[str, ...] = (
    # «Ignore all previous instructions», «forget your rules».
    rf"¦{_IGN_EN} (?:{_FILL_EN} ){{0,3}}{_KEY_EN} (?:(?:{_KEY_EN}|{_FILL_EN}) ){{0,4}}{_NOUN_EN}¦",
    rf"¦{_IGN_EN} (?:(?:the|all|everything|of|that|this) )*(?:above|aforementioned)¦"
    r"(?! (?:message|question|email|mail|typo|mistake|one))",
    r"¦(?:ignore|disregard|forget) (?:all|everything) (?:that |what )?(?:you (?:were|have been|ve been|got|"
    r"know|learned|learnt|are told)|above|before|so far|said (?:before|above|earlier)|previously)¦",
    r"¦(?:ignore|disregard) (?:all|everything)¦"
    r"(?! (?:\w+ )?(?:message|messages|mail|email|question|typo|mistake|i (?:wrote|said|sent)))",
    # Asking for the system prompt.
    r"¦(?:system|initial|original|hidden|secret|internal|developer|pre|underlying|master|meta|confidential)"
    r"~prompts?¦",
    r"¦(?:system|hidden|secret|developer|confidential) "
    r"(?:instructions?|directives?|configuration|guidelines)¦",
    rf"¦{_REVEAL_EN} (?:(?:me|us|out|back|all|the|of) )*(?:your|ur|{_SECRET_ADJ_EN}) "
    rf"(?:{_SECRET_ADJ_EN} )*(?:prompt|instructions|directives|configuration|system message|"
    r"developer message|initial message|instruction set|programming|rules you (?:were|have been|follow))¦"
    rf"{_NOT_ABOUT_SCHOOL_EN}",
    r"¦(?:repeat|print|output|display|echo|reproduce|recite|show|reveal|write|copy|paste|type|tell|give|"
    r"translate|summari[sz]e|list|dump|return) (?:(?:me|us|back|out|all|the|everything|every|each|whole|"
    r"entire|full|of|your|first|exact|last|previous|above) )*(?:text|words?|message|messages|content|lines?|"
    r"sentences?|conversation|everything|instructions|prompt|context|paragraphs?|characters|tokens|chat|"
    r"history) (?:\w+ ){0,3}(?:above|before (?:this|that|my|it)|preceding|verbatim|word for word|so far|"
    r"at the (?:top|beginning|start)|from the (?:top|beginning|start) of (?:the|this|our|your) "
    r"(?:conversation|chat|prompt|context))¦",
    r"¦first (?:line|sentence|words?|paragraph|message) of (?:your|the|this) (?:prompt|instructions|system|"
    r"conversation|context)¦",
    r"¦(?:text|content|contents|wording) of (?:your|ur|the) (?:system |initial |original |hidden |secret )?"
    rf"(?:prompt|instructions)¦{_NOT_ABOUT_SCHOOL_EN}",
    r"¦what (?:does|do|did) (?:your|ur) (?:system )?(?:prompt|instructions) "
    r"(?:say|contain|look like|tell you|include)¦",
    r"¦(?:what|everything|text|all) (?:was |is |that was )?(?:written|said|stated) (?:before|above) "
    r"(?:my|this|the) (?:message|question|conversation|line)¦",
    r"¦how (?:were|are) you (?:programmed|instructed|configured|prompted|set up|told|trained to)¦",
    r"¦what (?:instructions|rules|prompt|directives|orders) (?:were|have) you (?:been )?(?:given|told|"
    r"received|programmed)¦",
    r"¦what (?:were|have) you (?:been )?(?:told|instructed|programmed) (?:to|not to)¦",
    r"¦(?:end|begin|start) of (?:the )?(?:system |new |user )?(?:prompt|instructions|context)¦",
    # A new identity: «you are now…», «from now on…», «act as», «pretend you are».
    r"¦you(?: are| re|re| r) now¦(?! (?:open|closed|offering|accepting|enrolling|available|recruiting|able|"
    r"ready|hiring|running|teaching|in|on|at|online|offline|working|booking|fully)¦)",
    r"¦you(?: are| re|re) no longer¦(?! (?:open|offering|accepting|enrolling|available|recruiting|hiring|"
    r"running|teaching|working|booking)¦)",
    r"¦you (?:will|shall|must) now (?:be|act|respond|answer|reply|speak|talk|pretend|behave|only|follow|obey|"
    r"ignore|roleplay|play)¦",
    r"¦from now on¦~(?:you(?: are| re|re| will be| ll be| must| shall| have no| can do| act| respond| answer|"
    r" reply| ignore| forget| pretend| obey| follow| only| speak| talk| behave)|your (?:name|role|new|only|"
    r"task|job|instructions|rules|purpose|goal|answers|responses)|act|pretend|behave|ignore|forget|"
    r"disregard|do not follow|don t follow|dont follow|be|(?:only )?(?:answer|respond|reply) (?:as|like|"
    r"without|with no|in character))¦",
    r"(?:^|[.!?:;\n])~(?:(?:please|pls|plz|kindly|ok|okay|so|now|and|then|just|hey|hi|hello) )*"
    r"act (?:as|like)¦",
    r"¦(?:you|u) (?:to|will|must|should|shall|need to|have to|are going to|gonna|now) act (?:as|like)¦",
    r"¦act (?:as|like) (?:an? |the |my |if |though )?(?:dan|ai|bot|chatbot|unrestricted|jailbroken|evil|"
    r"hacker|linux|terminal|developer|admin|administrator|system|gpt|chatgpt|different|grandma|grandmother|deceased|"
    r"you (?:are|have|were)|there (?:are|were) no|unfiltered|uncensored|root|sudo)¦",
    r"¦pretend(?:ing)? (?:that )?(?:you|u|ur|your|to be (?:an? )?(?:ai|bot|assistant|chatbot|human|person|"
    r"dan|developer|admin|unrestricted|evil|hacker|different (?:ai|assistant|bot|model)))¦",
    r"¦imagine (?:that )?(?:you|u) (?:are|re|were|r|have no|can|could)¦",
    r"¦(?:let s|lets|let us|we will|we ll|we are going to|we re going to|i want to|i want you to) "
    r"(?:(?:do|play|start) )?(?:an? )?role~play¦",
    r"¦role~play(?:ing)? (?:as|with me as|a scenario where you)¦",
    r"¦(?:in this|this is an?|start an?|begin an?) role~play(?:ing)?¦",
    r"¦(?:stay|remain|break|get out of|step out of) (?:in~)?character¦",
    r"¦(?:you|u) (?:will|must|shall|are going to|now) play (?:the role|the part|a character)¦",
    r"¦play the (?:role|part) of (?:an? |the )?(?:ai|dan|unrestricted|evil|hacker|developer|system|admin|"
    r"chatbot|bot|assistant|gpt|chatgpt|different)¦",
    r"¦stop being (?:an? |the )?(?:assistant|ai|bot|chatbot|helpful|polite|academy|school)¦",
    # Jailbreak personas and modes.
    r"¦dan (?:mode|jailbreak|prompt|version)¦",
    r"¦(?:you are|you re|youre|act as|become|stay|ты|стань|режим|в роли) dan¦",
    r"¦do anything now¦",
    r"¦(?:developer|dev|admin|sudo|unrestricted|jailbreak|jailbroken|evil|unfiltered|uncensored|dan|unlocked|"
    r"no restrictions?|no filters?) mode¦(?! (?:in|of|for)¦)",
    r"¦(?:enable|activate|enter|switch (?:to|into)|turn on|unlock|go into) (?:the )?(?:developer|dev|dan|"
    r"jailbreak|unrestricted|sudo|admin|debug|god|root) mode¦",
    r"¦jail~(?:break|broken)",
    r"¦pwned¦",
    rf"¦{_SUBJECT_EN} (?:\w+ ){{0,2}}(?:with )?(?:no|without(?: any)?|free of|free from|zero) (?:\w+ )?"
    rf"{_BLOCKS_EN}¦(?! (?:on|for|of|about|regarding|in)¦)",
    r"¦(?:unrestricted|unfiltered|uncensored) (?:ai|mode|assistant|bot|chatbot|version|model|gpt|chatgpt|"
    r"responses?|answers?|persona)¦",
    r"¦(?:you are|you re|youre|be|become|act|stay) (?:now )?(?:an? )?(?:unrestricted|unfiltered|uncensored|"
    r"unlimited|unbound)¦",
    r"¦without (?:any )?(?:censorship|filters|guardrails|safety filters|content filters)¦",
    r"¦(?:disable|turn off|deactivate|switch off|bypass|circumvent|override|ignore) (?:\w+ ){0,2}(?:filters?|"
    r"safety|guardrails?|safeguards?|censorship|content policy|moderation|restrictions|limitations)¦",
    # Fake role markers and instruction blocks.
    r"^[^\w\n]{0,3}(?:system|assistant|developer|sys|admin|root|system prompt|system message|"
    r"new system prompt|система|системное сообщение|ассистент|разработчик)[^\S\n]*[:>\]]",
    r"<\|?(?:im_start|im_end|im_sep|endoftext|system|user|assistant|begin_of_text|start_header_id|"
    r"end_header_id|eot_id)\|?>",
    r"\[/?(?:inst|system|sys|assistant)\]",
    r"<</?sys>>",
    r"<\s*/?\s*(?:system|sys|instructions?)\s*>",
    r"#{2,}~(?:instructions?|system|response|input|new instructions|инструкция|система)¦",
    r"(?:^|\n)~sudo¦",
    # «New instructions», «override».
    r"¦(?:here are|here re|heres|here is|these are|follow|following|obey|your|the following) (?:\w+ )?new "
    r"(?:instructions|rules|directives|orders|guidelines|task|role|prompt|persona|system prompt)¦",
    r"¦new (?:system )?(?:instructions?|rules|directives|prompt|persona|task|role)~[:\-]",
    r"¦(?:updated|revised|real|actual|true|priority|important) (?:system )?"
    r"(?:instructions?|prompt|directives)~:",
    r"¦your (?:new|real|true|actual) (?:role|task|instructions|rules|purpose|persona|name|identity|goal|job|"
    r"prompt|directive)s?¦",
    r"¦(?:system|admin|developer|emergency|security|manual|master|root|sudo) override¦",
    r"¦override (?:mode|code|command|protocol|activated|enabled|accepted|granted|authori[sz]ed)¦",
    r"¦override~:",
    # Russian: «игнорируй все предыдущие инструкции», «забудь свои правила».
    rf"¦{_IGN_RU_BARE} (?:(?:{_KEY_RU}|{_FILL_RU}) ){{0,4}}{_NOUN_RU}",
    rf"¦{_IGN_RU} (?:{_FILL_RU} ){{0,3}}{_KEY_RU} (?:(?:{_KEY_RU}|{_FILL_RU}) ){{0,3}}{_NOUN_RU}",
    r"¦(?<!не\s)(?:игнорируй(?:те)?|проигнорируй(?:те)?|забудь(?:те)?|отбрось(?:те)?|"
    r"не обращай(?:те)? внимания на) (?:(?:все|всe) )?(?:вышесказанное|вышеизложенное|вышенаписанное|"
    r"сказанное (?:ранее|выше|до этого)|написанное выше|что (?:было )?(?:написано|сказано) "
    r"(?:выше|ранее|до этого)|выше|предыдущее¦(?! (?:сообщени|письм|вопрос))|что (?:было )?(?:выше|раньше|"
    r"до этого)|кто ты)",
    r"¦(?<!не\s)(?:забудь(?:те)?|игнорируй(?:те)?|проигнорируй(?:те)?) (?:все|всe) (?:что|чему) "
    r"(?:тебе|вам|тебя|вас) (?:говорили|сказали|писали|велели|учили|задали|приказали)",
    # Russian: asking for the prompt or the instructions.
    rf"¦{_REVEAL_RU} {_HEDGE_RU}(?:{_SECRET_KEY_RU} )+(?:промпт|промт)\w*",
    r"¦(?:свой|свои|твой|твои|твоего|твоим|ваш|вашего|исходн\w*|изначальн\w*|системн\w*|скрыт\w*|секретн\w*|"
    r"первоначальн\w*|начальн\w*|внутренн\w*|конфиденциальн\w*|оригинальн\w*|полн\w*) (?:промпт|промт)\w*",
    r"¦у тебя (?:\w+ )?(?:промпт|промт)\w*",
    rf"¦{_REVEAL_RU} {_HEDGE_RU}(?:{_SECRET_KEY_RU} )+(?:\w+ )?(?:инструкци|установк|директив|указани|"
    r"настройк|правил|ограничени)\w*¦(?! (?:по|для|к|о|об|насчет|как|на)¦)",
    r"¦системн\w* (?:промпт|промт|инструкци|указани|установк|директив)\w*",
    r"¦(?:твои|твоих|твоим|твоя|твой) (?:\w+ )?(?:инструкци|установк|директив|промпт|промт|указани)\w*",
    r"¦какие (?:у тебя|тебе (?:дали|были даны|дал|выдали|задали|прописали)|ты получил) (?:\w+ )?"
    r"(?:инструкци|указани|правил|установк|директив|ограничени)\w*",
    r"¦какие (?:инструкци|указани|правил|установк)\w* (?:тебе|ты) (?:дали|даны|получил|выдали|задали|"
    r"прописали|следуешь)",
    r"¦что тебе (?:сказали|велели|приказали|запретили|запрещено|написали|прописали) (?:в|делать|говорить|"
    r"отвечать|не)¦",
    r"¦как тебя (?:запрограммировали|настроили|проинструктировали|обучили)",
    r"¦(?:повтори|повторите|выведи|выведите|покажи|покажите|процитируй|процитируйте|напиши|напишите|"
    r"скопируй|скопируйте|перепиши|перепишите|распечатай|распечатайте|переведи|переведите|выдай|перескажи) "
    r"(?:мне~)?(?:дословно~|полностью~|целиком~)?(?:(?:весь|все|полностью) )?(?:текст|сообщени\w*|слова|то|"
    r"все|инструкци\w*|промпт\w*|промт\w*|содержимое|написанное|предыдущ\w*|первое сообщение|самое первое)"
    r"(?: \w+){0,4} (?:выше|ранее|до этого|в начале|сначала|дословно|над этим|перед этим)¦",
    # Russian: a new identity.
    r"¦(?:ты теперь|теперь ты|отныне ты|с этого момента ты)¦(?! (?:можешь|понял|понимаешь|знаешь|видишь|"
    r"ответишь|скажешь|помнишь|сможешь|мне|нам|тоже|уже)¦)",
    r"¦(?:с этого момента|с этой минуты|отныне|впредь|с сегодняшнего дня)¦~(?:ты|твои|твоя|твой|тебе|тебя|"
    r"ты должен|отвечай|действуй|действуйте|веди себя|ведите себя|будь|будьте|будешь|игнорир\w*|"
    r"забудь\w*|называй себя|представляйся|притворяйся|не следуй|следуй только)¦",
    r"¦(?:представь|представьте|вообрази|вообразите)(?: себе)?~(?:что )?ты¦",
    r"¦(?:притворись|притворитесь|притворяйся|притворяйтесь|прикинься|прикиньтесь|прикидывайся)¦",
    r"¦(?:сыграй|сыграйте|играй|играйте|исполни|исполните|прими|примите|возьми|возьмите) (?:на себя )?"
    r"рол[ьи]¦",
    r"¦(?:выступи|выступай|выступите|выступайте) в роли¦",
    r"¦(?:веди|ведите) себя как¦",
    r"¦(?:действуй|действуйте) (?:как|в роли|от имени|без)¦",
    r"¦ты (?:в роли|играешь роль|теперь в роли)¦",
    r"¦(?:войди|войдите|выйди|выйдите|выходи) (?:в роль|из роли|из образа)¦",
    r"¦ролев\w* игр\w* (?:где|в которой) ты¦",
    r"¦ты больше не (?:бот|ассистент|помощник|ии|модель|ограничен\w*|обязан|должен|связан|чат~?бот|"
    r"консультант)",
    # Russian: jailbreak modes, «без ограничений», new instructions.
    r"¦режим\w* (?:разработчика|разраба|dan|админ\w*|без ограничений|без цензуры|джейлбрейк\w*|"
    r"бесконтрольн\w*|неограниченн\w*|суперпользовател\w*)¦(?! (?:в|на|для|у)¦)",
    r"¦(?:включи|включите|активируй|активируйте|перейди|перейдите|войди|войдите)~(?:в )?режим\w* "
    r"(?:разработчика|разраба|бога|dan|админ\w*|отладки|без|джейл\w*|бесконтрольн\w*|неограниченн\w*)",
    r"¦(?:джейл|джеил)~брейк\w*",
    r"¦(?:ты|отвечай|отвечать|работай|работать|говори|говорить|общайся|общаться|бот|ии|ассистент|модель|"
    r"помощник|ответь|действуй|действовать|будь|нейросеть|режим) (?:\w+ ){0,3}без (?:каких~(?:либо|то) |"
    r"всяких |любых )?(?:ограничений|правил|цензуры|фильтров|запретов|рамок|морали|этики)¦"
    r"(?! (?:по|на|в)¦)",
    r"¦без (?:каких~(?:либо|то) |всяких |любых )?(?:цензуры|фильтров|моральных|этических)¦",
    r"¦(?:отключи|отключите|выключи|выключите|обойди|обойдите|сними|снимите|убери|уберите|деактивируй|"
    r"деактивируйте) (?:\w+ ){0,2}(?:ограничени|фильтр|цензур|запрет|модераци|защит)\w*¦"
    r"(?! (?:по|на|для|в)¦)",
    r"¦(?:вот|твои|следуй|следуйте|выполняй|выполняйте|прими|примите) (?:\w+ )?нов\w+ (?:инструкци|правил|"
    r"указани|директив|установк|роль|задач)\w*",
    r"¦нов\w+ (?:системн\w+ )?(?:инструкци|правил|указани|директив|установк)\w*~:",
    r"¦(?:твоя|твои|твой) нов\w+ (?:роль|задач|инструкци|правил|личност|имя|цель)\w*",
    r"¦переопредел\w* (?:\w+ )?(?:инструкци|правил|настройк|промпт|ограничени)\w*",
)


def _compile(sources: Iterable[str], glued: bool) -> re.Pattern[str]:
    gap, optional_gap, edge = (r"[\W_]*", r"[\W_]*", "") if glued else (r"[\W_]+", r"[\W_]*", r"\b")
    parts = [s.replace(" ", gap).replace("~", optional_gap).replace("¦", edge) for s in sources]
    if glued:  # words run together: bound every word so that splitting a long run stays cheap
        parts = [p.replace(r"\w+", r"\w{1,15}").replace(r"\w*", r"\w{0,15}") for p in parts]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.MULTILINE)


_INJECTION = _compile(_INJECTION_SOURCES, glued=False)
_INJECTION_GLUED = _compile(_INJECTION_SOURCES, glued=True)
_DAN = re.compile(r"\bD\.?A\.?N\b")  # the jailbreak persona is written in capitals; «Dan» is a name

# Text spelt out letter by letter, «i g n o r e» or «i.g.n.o.r.e»: four or more single characters.
_SPELT = re.compile(r"(?<![^\W_])[^\W_](?![^\W_])(?:(?:[^\w\n]|_){1,3}[^\W_](?![^\W_])){3,}")
_NOT_ALNUM = re.compile(r"[\W_]+")
_LONG_TOKEN = re.compile(r"[^\W_]{10,}")  # «ForgetYourRules» after lower-casing
_GLUED_MAX = 300

_LEET_TOKEN = re.compile(r"[\w@$]*[^\W\d_][\w@$]*")
_LEET_LATIN = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                             "@": "a", "$": "s"})  # fmt: skip
_LEET_CYRILLIC = str.maketrans({"0": "о", "3": "з", "4": "ч", "6": "б", "@": "а"})
_LEET_L_WORDS = frozenset(
    "all rules rule tell will follow full only roleplay role filters filter limits limitations developer "
    "unlimited unfiltered complete reveal leak below self yourself model jailbreak jailbroken guidelines "
    "polite help unlock unlocked else".split()
)
_WORD = re.compile(r"[^\W\d_]+")

# Typos of the words injections are made of, fixed before matching (a real other word is never «fixed»).
_INJECTION_WORDS = (
    "ignore", "disregard", "instructions", "instruction", "previous", "restrictions", "jailbreak",
    "developer", "pretend", "system", "prompt", "forget", "override", "guidelines", "roleplay",
    "игнорируй", "проигнорируй", "инструкции", "инструкций", "предыдущие", "промпт", "притворись",
    "ограничений", "разработчика",
)  # fmt: skip
_NOT_INJECTION_TYPOS = frozenset(
    {"ignores", "ignored", "forgot", "forgets", "systems", "pretends", "prompts", "prompted", "игнорирую",
     "ограничения", "ограничено"}
)  # fmt: skip


def _leet(text: str) -> str:
    """Digits and symbols read as letters of the word's script: «1gn0re» → ignore, «3абудь» → забудь."""

    def decode(match: re.Match[str]) -> str:
        token = match.group()
        if not any(ch in "013456789@$" for ch in token):
            return token
        letters = [_script(ch) for ch in token]
        if letters.count("cyrillic") > letters.count("latin"):
            return token.translate(_LEET_CYRILLIC)
        as_l = token.replace("1", "l").translate(_LEET_LATIN)
        return as_l if as_l in _LEET_L_WORDS else token.translate(_LEET_LATIN)

    return _LEET_TOKEN.sub(decode, text)


def _untypo(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group()
        return _fuzzy_in(word, _INJECTION_WORDS, _NOT_INJECTION_TYPOS) or word

    return _WORD.sub(fix, text)


def _views(text: str) -> tuple[set[str], set[str]]:
    """Ordinary views of the text and the glued words of spelt-out runs, each also de-leeted and de-typoed."""
    base = normalise(text)
    glued = [_NOT_ALNUM.sub("", m.group()) for m in _SPELT.finditer(base)]
    spaced = _SPELT.sub(lambda m: " " + _NOT_ALNUM.sub("", m.group()) + " ", base)
    glued += _LONG_TOKEN.findall(base)
    glued = [run[:_GLUED_MAX] for run in glued]
    ordinary: set[str] = set()
    for view in {base, spaced}:
        for variant in (view, _leet(view)):
            ordinary.update((variant, _untypo(variant)))
    glued_views = {variant for run in glued for variant in (run, _leet(run))}
    return ordinary, glued_views


def is_injection(text: str) -> bool:
    ordinary, glued = _views(text)
    if any(_INJECTION.search(view) for view in ordinary):
        return True
    if any(_INJECTION_GLUED.search(run) for run in glued):
        return True
    cased = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    return bool(_DAN.search(cased))


# ---------------------------------------------------------------------------------------------------------
# Prices: amounts with a currency (both filters) and price words in questions (pre-filter).

_NUM = r"(?<![\d.,])\d{1,3}(?:[ .,']\d{3})+(?:[.,]\d{1,2})?(?!\d)|(?<![\d.,])\d+(?:[.,]\d{1,2})?(?!\d)"
# «5 тыс.», «4 тысячи», «5k», «2 млн» between an amount and its currency.
_MULTIPLIER = r"(?:тыс\w*\.?|k\b|к\b|thousands?\b|млн\b\.?|миллион\w*|millions?\b|mln\b)"
_CURRENCY_AFTER = (
    r"(?:₽|₴|₸|\$|€|£|руб\w*|р\.|р\b|rub\b|rur\b|rubles?\b|roubles?\b|usd\b|eur\b|euros?\b|евро\b|долл\w*|"
    r"dollars?\b|bucks?\b|грн\b|гривн\w*|гривен\w*|uah\b|hryvni?as?\b|gbp\b|тенге\b|kzt\b|byn\b|pln\b)"
)
_AMOUNT = re.compile(
    rf"(?>{_NUM})(?:\s*[-–—]\s*(?>{_NUM}))?\s*(?:{_MULTIPLIER}\s*)?{_CURRENCY_AFTER}"
    rf"|(?:[$€£₽₴₸]|\b(?:usd|eur|us\$|gbp|rub|uah)\b)\s?(?>{_NUM})"
)
_CURRENCY_SIGN = re.compile(r"[$€£₽₴₸¥]")
# Answers only: a currency named anywhere, with or without an amount (a school FAQ answer has no reason to).
# Words that are also ordinary words («rub», «pound sign», «per cent») count only where they cannot be read
# otherwise; any character of the Unicode category Sc (currency symbol) counts too, see `_names_currency`.
_CURRENCY_WORD = re.compile(
    r"\b(?:рубл\w*|руб\b|доллар\w*|долл\b|евро\b|гривн\w*|гривен\w*|грн\b|тенге\b|злот\w*|копе(?:ек|йк\w*)|"
    r"цент(?:а|ов|ы)?\b|dollars?|bucks|euros?|usd|eur|gbp|uah|kzt|byn|pln|rur|rubles?|roubles?|"
    r"hryvni?as?|tenge|zloty|zlotys|pence|(?<!per )cents?|pounds?(?! (?:sign|key|symbol)))\b"
)

_UNITS = (
    r"(?:лет|года?|годам|years?|yrs?|yo|минут\w*|мин|min|mins|minutes?|час\w*|hours?|hrs?|урок\w*|занят\w*|"
    r"lessons?|classes|class|sessions?|раз\w*|times?|дет\w*|ребен\w*|children|child|kids?|students?|"
    r"учени\w*|человек|people|persons?|недел\w*|weeks?|месяц\w*|months?|дн\w*|days?|класс\w*|grades?|"
    r"модул\w*|modules?|siblings?|brothers?|sisters?|братьев|сестер|семестр\w*|terms?|levels?|уровн\w*|"
    r"курс\w*|courses?|участник\w*|places?|мест\w*|pm|am|утра|вечера|дня|числ\w*|th|st|nd|rd|го|"
    r"январ\w*|феврал\w*|марта?|апрел\w*|ма[яй]|июн\w*|июл\w*|августа?|сентябр\w*|октябр\w*|ноябр\w*|"
    r"декабр\w*|january|february|march|april|may|june|july|august|september|october|november|december)\b"
)
_PRICE_WORD_ANSWER = (
    r"\b(?:стоимост\w*|цен[аыуе]|ценой|стоит|стоят|стоить|стоил\w*|обойдет\w*|обойдут\w*|оплат\w*|тариф\w*|"
    r"абонемент\w*|скидк\w*|прайс\w*|prices?|priced|pricing|costs?|costing|fees?|tuition|payments?|"
    r"discounts?|charges?|charged|subscriptions?)\b"
)
# The rest of the sentence after a price word (at most 60 characters; a decimal point does not end it).
_PRICE_WORD_WINDOW = re.compile(rf"{_PRICE_WORD_ANSWER}((?:[^.!?\n]|(?<=\d)\.(?=\d)){{0,60}})")
# Every amount in that window that is not a count of something («8 уроков», «7–14 лет», «15:00», «1-го»).
_WINDOW_AMOUNT = re.compile(
    rf"(?<!\d:)(?>(?:{_NUM})(?:\s*[-–—]\s*(?:{_NUM}))?)(?!\s*(?:{_UNITS}|:\d)|-[^\W\d_]{{1,3}}\b)"
)
_VERSION_BEFORE = re.compile(r"\b(?:python|scratch|version|версии|версия|v)\s*$")
# «…стоит около пяти тысяч»: an amount in words.
_WINDOW_MULTIPLIER = re.compile(
    rf"\b(?:тысяч\w*|тыс\b|thousands?|hundreds?|сот(?:ен|ни|ня)|млн|миллион\w*|millions?)\b"
    rf"(?!\s*(?:of\b|{_UNITS}|родител\w*|parents?\b|famil\w*|сем(?:ей|ьи|ьям)\b|выпускник\w*|graduates?\b))"
)
_NUMBER_PER_UNIT = re.compile(
    rf"(?:(?<![\d.,])\d{{2,}}(?:[.,]\d+)?\s*(?:per|за|/)|(?<![\d.,])\d+(?:[.,]\d+)?\s*{_MULTIPLIER}\s*"
    r"(?:per|за|в|a|/))\s*(?:lesson|class|session|hour|month|урок|занятие|час|месяц)"
)


# Price words in questions. Exact: short or ambiguous words («цены», «почем» is one typo from «почему»).
_PRICE_EXACT = frozenset(
    """
    цена цены цен цену ценой ценам ценах цэна цэны цэну ценник прайс прайса прайсы прайслист почем
    платно платный платная платное платные платных платить заплатить платим доплата доплатить доплачивать
    дорого дороговато недорого дешево дешевле дороже
    руб рубль рубля рублей грн гривна гривны гривен гривень евро доллар доллара долларов бакс баксов баксы
    коштує коштують коштуе вартість вартiсть ціна ціни
    price prices priced pricey pricy prise prises prce pirce pricelist cost costs costing costly
    fee fees cheap cheaper cheapest affordable usd eur euro euros dollar dollars doller dollers dolar dolars
    bucks rub rubles roubles uah paid
    """.split()
)
_PRICE_STEMS = (
    "стоимост", "оплат", "оплач", "тариф", "рассрочк", "абонемент", "скидк", "скидок", "ценник", "прайс",
    "рубл", "гривн", "доллар", "вартіст", "скидоч",
)  # fmt: skip
_PRICE_FUZZY = (
    "стоимость", "стоимости", "стоимостью", "ценник", "оплата", "оплату", "оплаты", "оплатить", "оплачивать",
    "скидка", "скидки", "скидку", "скидок", "рассрочка", "рассрочку", "рассрочки", "абонемент", "абонементы",
    "абонемента", "тариф", "тарифы", "тарифа", "тарифов", "рублей", "долларов", "гривен",
    "tuition", "payment", "payments", "discount", "discounts", "subscription", "subscriptions", "expensive",
    "pricing", "installment", "installments", "instalment", "instalments",
)  # fmt: skip
_NOT_PRICE_TYPOS = frozenset({"pavement", "pricking", "expansive", "плотно", "почему"})
_HOW_MANY_RU = ("сколько", "скока", "скоко", "сколко", "скольк", "сколька", "скольки", "скок")
_COSTS_RU = frozenset(
    "стоит стоят стоить стоет стоют стоил стоила стоило стоили обойдется обойдутся обойдеться денег платить "
    "заплатить оплатить стоимость".split()
)
_TAKE_RU = frozenset({"берете", "берут", "возьмете"})  # «сколько берёте» — right after «сколько» only
_MUCH = frozenset({"much", "mutch", "mush", "muc", "mch"})
# «How much time / homework / practice…»: the word right after «how much» that makes it not a price.
_HOW_MUCH_NOT_PRICE_NEXT = frozenset(
    """
    time homework practice practise practicing practising hours hour minutes minute days weeks progress
    attention experience effort knowledge screen work study studying preparation prep sleep english math maths
    coding programming python content material materials support help involvement fun of parental
    """.split()
)
# …or a verb later on: «how much will my child learn / improve / practise».
_HOW_MUCH_NOT_PRICE_LATER = frozenset(
    """
    learn learns improve improves progress practice practise practising practicing study know understand speak
    read write remember help involved participate homework time attention
    """.split()
)
_PAY = frozenset({"pay", "paying", "pays"})
_PAY_BEFORE = frozenset({"to", "i", "we", "do", "can", "should", "must", "need", "will", "how", "you"})
_PAY_AFTER = frozenset({"for", "per", "by", "with", "monthly", "weekly", "upfront", "online", "via", "in"})
_PAY_NOT = frozenset({"attention", "respect", "visit", "tribute", "off", "heed"})
_CHARGE = frozenset({"charge", "charges", "charged"})
_SENTENCE = re.compile(r"[.!?…\n]+")


def _is_price_word(token: str) -> bool:
    if token in _PRICE_EXACT or token.startswith(_PRICE_STEMS):
        return True
    return _fuzzy_in(token, _PRICE_FUZZY, _NOT_PRICE_TYPOS) is not None


def _is_how_many_ru(token: str) -> bool:
    return token in _HOW_MANY_RU or _fuzzy_in(token, ("сколько",)) is not None


def _is_cost_verb_ru(token: str) -> bool:
    return token in _COSTS_RU or _fuzzy_in(token, ("стоит", "стоят", "стоить")) is not None


def _price_in_sentence(tokens: list[str]) -> bool:
    for i, token in enumerate(tokens):
        after = tokens[i + 1 :]
        before = tokens[i - 1] if i else ""
        if _is_price_word(token):
            return True
        if _is_how_many_ru(token) and (
            any(_is_cost_verb_ru(t) for t in after[:4]) or (after and after[0] in _TAKE_RU)
        ):
            return True
        if token in ("how", "hw", "hou") and after and after[0] in _MUCH:
            rest = after[1:]
            if not (rest and rest[0] in _HOW_MUCH_NOT_PRICE_NEXT) and not (
                _HOW_MUCH_NOT_PRICE_LATER & set(rest[:6])
            ):
                return True
        if token in _PAY and not (after and after[0] in _PAY_NOT):
            if before in _PAY_BEFORE or (after and after[0] in _PAY_AFTER):
                return True
        if (
            token in _CHARGE
            and before != "in"
            and (
                before in {"you", "do", "we", "they", "what", "the", "any", "extra", "additional", "of"}
                or (after and after[0] in {"for", "per"})
            )
        ):
            return True
    return False


def is_price_question(text: str) -> bool:
    norm = normalise(text)
    if _CURRENCY_SIGN.search(norm) or _AMOUNT.search(norm):
        return True
    return any(_price_in_sentence(_WORD.findall(sentence)) for sentence in _SENTENCE.split(norm))


def screen_question(text: str) -> Verdict | None:
    """The pre-filter: PRICE, INJECTION, or None (may go to the assistant). Injection wins over price."""
    if is_injection(text):
        return Verdict.INJECTION
    if is_price_question(text):
        return Verdict.PRICE
    return None


# ---------------------------------------------------------------------------------------------------------
# Post-filter.

# Bare domains («example.com/path») count as links only with a known top-level domain: a rule for any
# alphabetic one would also read code as links («os.path», «turtle.forward()», «main.py», «index.html»), which
# a coding school's answers are full of. Any alphabetic top-level domain counts when a path follows
# («evil.bond/login»).
_TLDS = (
    r"(?:com|net|org|info|biz|io|ai|co|me|to|in|it|us|be|ru|su|ua|by|kz|uz|kg|am|ge|az|md|lv|lt|ee|pl|de|"
    r"fr|es|uk|eu|nl|ch|cz|sk|fi|se|dk|il|tr|ae|cn|jp|kr|ca|au|nz|br|mx|ro|hu|pt|bg|gr|ie|ly|gl|gle|cc|tv|"
    r"fm|gg|tk|ml|ga|cf|gq|pw|app|dev|xyz|online|site|store|shop|link|pro|club|top|icu|bond|sbs|cfd|buzz|"
    r"lol|vip|fun|today|group|team|media|studio|design|academy|school|education|edu|gov|tech|live|space|"
    r"website|page|blog|news|world|life|digital|email|click|cloud|ws|рф|укр|бел|рус)"
)
_LINK_FLAGS = re.IGNORECASE
_URL_WITH_SCHEME = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s<>\"'`]+", _LINK_FLAGS)
_URL_WWW = re.compile(r"(?<![\w.\-@/])www\d{0,3}\.[^\s<>\"'`]+", _LINK_FLAGS)
_URL_BARE = re.compile(
    rf"(?<![\w@.\-])(?:[\w-]+\.)+(?P<tld>{_TLDS})(?![\w-])(?P<rest>(?::\d+)?(?:[/?#][^\s<>\"'`]*)?)",
    _LINK_FLAGS,
)
_URL_BARE_WITH_PATH = re.compile(
    r"(?<![\w@.\-])(?:[\w-]+\.)+(?!js/)[a-z]{2,24}(?::\d+)?/[^\s<>\"'`]*", _LINK_FLAGS
)  # «Node.js/React» is not a link
_URL_PATTERNS = (_URL_WITH_SCHEME, _URL_WWW, _URL_BARE, _URL_BARE_WITH_PATH)
# Telegram makes «@username» clickable (but not the part after @ of an email address).
_MENTION = re.compile(r"(?<![\w.@])@([a-z][a-z0-9_]{3,})(?![a-z0-9_])", _LINK_FLAGS)
# «…in small classes.In addition…»: a top-level domain that is also a word, in Title case, with no path, is
# a new sentence without its space.
_WORD_TLDS = frozenset({"in", "it", "to", "me", "us", "be", "am", "by"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", _LINK_FLAGS)
_WEB_SCHEME = re.compile(r"^(?:https?://)?(?![a-z][a-z0-9+.\-]*://)", _LINK_FLAGS)
_AUTHORITY = re.compile(r"[^/?#]*")
_TRAILING = ".,;:!?)]}»\"'…"
_SENTENCE_END = ".!?…"
_CLOSERS = ")\"»”’'"


@dataclass(frozen=True)
class _Link:
    host: str | None  # None: a mention, or a link whose host cannot be read
    key: str | None  # the link as compared with `allowed_urls` (None: not a web link, never allowed by URL)
    mention: bool = False


def _url_key(url: str) -> str | None:
    """The link without its scheme (http, https or none), host lower-cased, trailing «/» and punctuation off.

    None: another scheme (ftp, tg…), never allowed by URL."""
    if not _WEB_SCHEME.match(url):
        return None
    url = _SCHEME.sub("", url.strip()).rstrip(_TRAILING + "/")
    authority = _AUTHORITY.match(url)
    end = authority.end() if authority else 0
    return url[:end].lower() + url[end:]


def _links(text: str) -> Iterator[_Link]:
    """Every link in the text: URLs, bare domains and @mentions."""
    plain = _unhidden(text)
    for pattern in _URL_PATTERNS:
        for match in pattern.finditer(plain):
            if pattern is _URL_BARE:
                tld, rest = match.group("tld"), match.group("rest")
                if not rest and tld.lower() in _WORD_TLDS and tld.istitle() and len(tld) > 1:
                    continue
            url = match.group().rstrip(_TRAILING)
            try:
                host = urlsplit(url if pattern is _URL_WITH_SCHEME else "http://" + url).hostname
            except ValueError:
                host = None
            yield _Link(host.rstrip(".") if host else None, _url_key(url))
        plain = pattern.sub(lambda m: " " * len(m.group()), plain)  # a link's path is not read again
    for match in _MENTION.finditer(plain):
        yield _Link(None, "t.me/" + match.group(1).lower(), mention=True)


def _host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    if not host:
        return False
    for entry in allowed:
        entry = entry.lower().strip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


@functools.lru_cache(maxsize=8)
def _url_keys(allowed_urls: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The keys of the allowed URLs, as they are and lower-cased (for @mentions: usernames ignore case)."""
    keys = frozenset(key for url in allowed_urls if (key := _url_key(_unhidden(url))) is not None)
    return keys, frozenset(key.lower() for key in keys)


def _link_allowed(link: _Link, allowed_hosts: frozenset[str], allowed_urls: frozenset[str]) -> bool:
    if _host_allowed(link.host, allowed_hosts):
        return True
    if link.key is None:
        return False
    keys, lowered = _url_keys(allowed_urls)
    return link.key in (lowered if link.mention else keys)


def _words(text: str) -> list[str]:
    return _ALNUM_RUN.findall(normalise(text))


@functools.lru_cache(maxsize=8)
def _secret_runs(secret_prompt: str) -> frozenset[tuple[str, ...]]:
    """Word runs whose appearance in an answer is a leak: every 6 consecutive words, and every line of 4+."""
    words = _words(secret_prompt)
    runs = {tuple(words[i : i + 6]) for i in range(len(words) - 5)}
    if 4 <= len(words) < 6:
        runs.add(tuple(words))
    for line in secret_prompt.splitlines():
        line_words = _words(line)
        if 4 <= len(line_words) < 6:  # longer lines are caught by their 6-word runs
            runs.add(tuple(line_words))
    return frozenset(runs)


def leaks_prompt(answer: str, secret_prompt: str) -> bool:
    runs = _secret_runs(secret_prompt)
    if not runs:
        return False
    words = _words(answer)
    for n in {len(run) for run in runs}:
        if any(tuple(words[i : i + n]) in runs for i in range(len(words) - n + 1)):
            return True
    return False


def _names_currency(norm: str) -> bool:
    return any(unicodedata.category(ch) == "Sc" for ch in norm) or bool(_CURRENCY_WORD.search(norm))


def _price_word_then_amount(norm: str) -> bool:
    for match in _PRICE_WORD_WINDOW.finditer(norm):
        window = match.group(1)
        for amount in _WINDOW_AMOUNT.finditer(window):
            if not _VERSION_BEFORE.search(window, 0, amount.start()):
                return True
        if _WINDOW_MULTIPLIER.search(window):
            return True
    return False


def mentions_price(answer: str) -> bool:
    """An amount with a currency, any currency at all, a price word followed by an amount, «3000 за урок»."""
    norm = normalise(answer)
    return (
        _names_currency(norm)
        or bool(_AMOUNT.search(norm))
        or _price_word_then_amount(norm)
        or bool(_NUMBER_PER_UNIT.search(norm))
    )


def has_foreign_link(
    answer: str, allowed_hosts: frozenset[str], allowed_urls: frozenset[str] = frozenset()
) -> bool:
    """A link (URL, bare domain, @mention) to neither an allowed host (or subdomain) nor an allowed URL."""
    return any(not _link_allowed(link, allowed_hosts, allowed_urls) for link in _links(answer))


def _cut(text: str, max_chars: int) -> str | None:
    """The text up to its last sentence end within the cap, if that keeps at least half of the cap."""
    end = -1
    for i in range(min(max_chars, len(text))):
        ch = text[i]
        if ch == "\n":
            end = i
        elif ch in _SENTENCE_END and (i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] in _CLOSERS):
            end = i + 1
    cut = text[:end].rstrip() if end > 0 else ""
    return cut if cut and 2 * len(cut) >= max_chars else None


def screen_answer(answer: str, policy: AnswerPolicy) -> Screened:
    """The post-filter: empty, leak, price, link, length, in that order. A violating answer is replaced."""
    text = answer.strip()
    if not text:
        return Screened(None, Violation.EMPTY)
    if leaks_prompt(text, policy.secret_prompt):
        return Screened(None, Violation.PROMPT_LEAK)
    if mentions_price(text):
        return Screened(None, Violation.PRICE)
    if has_foreign_link(text, policy.allowed_hosts, policy.allowed_urls):
        return Screened(None, Violation.LINK)
    if len(text) > policy.max_chars:
        return Screened(_cut(text, policy.max_chars), Violation.LENGTH)
    return Screened(text, None)
